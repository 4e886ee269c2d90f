"""The benchmark suite: ``python -m bench [--scale la|region|england] [--json PATH]`` (targets and figures:
docs/performance.md)."""
