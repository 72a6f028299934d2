//! The binary end to end: commands, exit codes, error messages.
