"""`memory.tune_malloc`: glibc takes the settings (this suite runs on glibc Linux)."""

from __future__ import annotations

import subprocess
import sys


def test_glibc_takes_the_allocator_settings_in_a_fresh_process() -> None:
    code = "from worker.memory import tune_malloc; print(tune_malloc())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True", out.stderr
