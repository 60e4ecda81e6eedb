"""docs/walkthrough.md is true: its `sh` blocks, exactly as written, walk a visit through a live server.

The blocks run in order in one bash (with ``set -euo pipefail``, so any failed request or `jq -e`
check stops it), twice in a row on the same server, as a newcomer trying it twice would.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_demo import demo_argv
from tests.live import LiveServer, wait_until

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "docs" / "walkthrough.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def shell_blocks() -> list[str]:
    return BLOCK.findall(WALKTHROUGH.read_text(encoding="utf-8"))


def script(blocks: list[str]) -> str:
    steps = [f'echo "=== block {n}"\n{block}' for n, block in enumerate(blocks, start=1)]
    return "set -euo pipefail\n" + "\n".join(steps) + '\necho "=== walked to the end"\n'


def last_block(stdout: str) -> str:
    started = re.findall(r"=== block \d+", stdout)
    return started[-1] if started else "(none)"


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path / "data")  # no accounts beforehand: the walkthrough makes its own
    live.data_dir.mkdir(parents=True)
    live.start("--no-mqtt")
    yield live
    live.stop()


def walk(server: LiveServer | None, tmp_path: Path, blocks: list[str],
         data: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the blocks in bash from the repository's folder; without a server, only DATA is given (the
    page finds the URL in the running demo's summary)."""
    path = tmp_path / "walkthrough.sh"
    path.write_text(script(blocks), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key not in ("BASE", "DATA")}
    env |= {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env |= {"BASE": server.url, "DATA": str(server.data_dir)} if server else {"DATA": str(data)}
    return subprocess.run(["bash", str(path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_walkthrough_shows_every_request_of_a_visit():
    text = "\n".join(shell_blocks())
    for request in ("madoguchi device add", "/api/v1/catalog", "/api/v1/guidance", "/api/v1/tickets",
                    "Idempotency-Key", "/api/v1/auth/token", "/call-next", "/start", "/finish",
                    '"$STATUS_URL"', "/api/v1/public/tickets/", "/feedback"):
        assert request in text, f"the walkthrough lost its {request} step"
    assert shutil.which("curl") and shutil.which("jq"), "the walkthrough needs curl and jq (scripts/bootstrap.sh)"


def test_the_walkthrough_runs_as_written_twice_in_a_row(server, tmp_path):
    numbers = []
    for attempt in (1, 2):
        done = walk(server, tmp_path, shell_blocks())
        assert done.returncode == 0 and done.stdout.rstrip().endswith("=== walked to the end"), (
            f"walk {attempt} stopped in {last_block(done.stdout)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        assert "すべての手続きが終わりました" in done.stdout
        assert "false" not in done.stdout.split(), "a jq check answered false"
        numbers += re.findall(r'"display_number": "(\d+)"', done.stdout)
    assert numbers == ["701", "702"], "each walk issues one number, in the おくやみ band"


def test_a_wrong_token_stops_the_walk_at_the_first_request_that_needs_it(server, tmp_path):
    # the checks of the page can fail: with a revoked kiosk the walk stops at the catalog
    blocks = shell_blocks()
    revoked = [*blocks[:2], 'madoguchi device revoke kiosk-walkthrough --data-dir "$DATA"\n', *blocks[2:]]
    done = walk(server, tmp_path, revoked)
    assert done.returncode != 0 and last_block(done.stdout) == "=== block 4", done.stdout[-2000:]


def test_the_walkthrough_finds_a_running_demo_by_its_data_folder(tmp_path):
    data = tmp_path / "demo"
    argv, ports = demo_argv(data)
    demo = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until((data / "demo.txt").exists, 180, "the demo summary")
        done = walk(None, tmp_path, shell_blocks(), data=data)
        assert done.returncode == 0 and "=== walked to the end" in done.stdout, (
            f"stopped in {last_block(done.stdout)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        assert f"http://127.0.0.1:{ports['--port']}\n" in done.stdout, "the URL came from the demo's summary"
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(60)
