"""ProcessMeter keeps the highest figures it saw, also once a tracked process has exited."""

from __future__ import annotations

import subprocess
import sys
import time

from xray_testing.measure import ProcessMeter, ProcSample


def test_a_zombie_sample_does_not_erase_the_peak() -> None:
    meter = ProcessMeter()
    meter.pids["svc"] = [4242]
    meter._record(4242, ProcSample(cpu_s=3.0, peak_rss_mb=120.0))
    meter._record(4242, ProcSample(cpu_s=3.5, peak_rss_mb=0.0))  # exiting: no VmHWM line any more
    assert meter.peak_rss_mb("svc") == 120.0
    assert meter.cpu_s("svc") == 3.5


def test_an_exited_child_keeps_its_measured_peak() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; b = bytearray(64 << 20); sys.stdin.read()"],
        stdin=subprocess.PIPE,
    )
    meter = ProcessMeter()
    meter.track("child", child.pid)
    for _ in range(100):  # until the 64 MB allocation shows in VmHWM
        meter._poll()
        if meter.peak_rss_mb("child") > 60:
            break
        time.sleep(0.05)
    assert child.stdin is not None
    child.stdin.close()
    child.wait(30)
    meter._poll()  # the reaped child: no sample; a zombie would give VmHWM-less samples
    assert meter.peak_rss_mb("child") > 60
