// The simulator's programmatic API (startSimulator) arrives with issue 3.
export {};
