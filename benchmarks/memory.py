"""Process memory for the benchmarks: the resident set and its peak (Linux /proc)."""


def memory_kib(field):
    """A field of /proc/self/status in KiB: "VmRSS" (now) or "VmHWM" (the peak since the
    last reset: write "5" to /proc/self/clear_refs to reset it to the current RSS)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")
