"""Reading a sweep: its runs, what each one is (arm and setting), and names for its settings."""
