"""Pure decisions: goal reading, planning, retry, progress. No I/O, no clock, no sleep."""
