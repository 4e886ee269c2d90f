"""The benchmark suite (DESIGN.md §6): ``python -m bench [--scale la|region|england] [--json PATH]``."""
