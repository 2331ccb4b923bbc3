"""`twopass build` end to end on the bundled corpus: every mode links and runs, outputs are reproducible,
round one's saved IR is exactly what round one compiled, and bad inputs fail cleanly."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, assert_clean_error, processes

HERE = Path(__file__).resolve().parent
EXPECTED = (DATA / "expected-output.txt").read_text()
MODES = {"global": [], "rounds1": ["--rounds", "1"], "local": ["--outliner", "local"],
         "never": ["--outliner", "never"], "O0-nomerge": ["-O0", "--no-merge-functions"]}


def link_and_run(objects: list[Path], out: Path, target: str) -> str:
    triple = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-musl"}[target]
    exe = out / "demo"
    subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", triple, *map(str, objects), "-o", str(exe)],
                   check=True, capture_output=True)
    cmd = [str(exe)] if target == "x86_64" else ["qemu-aarch64-static", str(exe)]
    if target == "aarch64" and not shutil.which(cmd[0]):
        pytest.skip("qemu-aarch64-static is not installed")
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60).stdout


def outputs(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("mode", MODES)
def test_modes_link_and_run(twopass, tmp_path, mode):
    out = tmp_path / "out"
    proc = twopass("build", DATA / "x86_64", "-o", out, "-j", "2", *MODES[mode], "--report", tmp_path / "r.json")
    assert proc.returncode == 0, proc.stderr.decode()
    objs = sorted(out.glob("*.o"))
    assert [p.name for p in objs] == sorted(p.name for p in (DATA / "x86_64").glob("*.o"))
    assert link_and_run(objs, tmp_path, "x86_64") == EXPECTED


def test_aarch64_two_rounds_and_textual_ir(twopass, tmp_path):
    out = tmp_path / "out"
    inputs = [p for p in sorted((DATA / "aarch64").glob("*.o"))]
    assembler = f"{shlex.quote(sys.executable)} -m ziglang cc -target aarch64-linux-musl -g0 -c"
    assert twopass("build", *inputs, "-o", out, "--assembler", assembler).returncode == 0
    assert link_and_run(sorted(out.glob("*.o")), tmp_path, "aarch64") == EXPECTED
    ll = tmp_path / "ll"
    assert twopass("build", DATA / "ll", "-o", ll).returncode == 0
    assert [p.name for p in ll.glob("*.o")] == [p.stem + ".o" for p in (DATA / "ll").glob("*.ll")]


def test_outputs_do_not_depend_on_jobs_or_input_order(twopass, tmp_path):
    """Nor do the saved IR and scratch objects: a worker's earlier modules once renamed a module's struct types."""
    inputs = sorted((DATA / "x86_64").glob("*.o"))
    assert twopass("build", *inputs, "-o", tmp_path / "a", "-j", "1", "--no-cache",
                   "--save-temps", tmp_path / "ta").returncode == 0
    assert twopass("build", *reversed(inputs), "-o", tmp_path / "b", "-j", "2", "--no-cache",
                   "--save-temps", tmp_path / "tb").returncode == 0
    a, b = outputs(tmp_path / "a"), outputs(tmp_path / "b")
    assert a == b and len(a) == len(inputs)
    temps = outputs(tmp_path / "ta")
    assert temps == outputs(tmp_path / "tb") and len(temps) == 2 * len(inputs) + 1


def test_saved_ir_reproduces_round_one_byte_for_byte(twopass, tmp_path):
    temps = tmp_path / "temps"
    assert twopass("build", DATA / "x86_64", "-o", tmp_path / "out", "--save-temps", temps).returncode == 0
    saved = sorted(temps.glob("*.opt.bc"))
    assert saved and (temps / "merged.cgdata").exists()
    again = tmp_path / "again"
    again.mkdir()
    subprocess.run([sys.executable, str(HERE / "compile_module.py"), "--no-opt", str(again), *map(str, saved), "--",
                    "-enable-machine-outliner", "-enable-global-merge-func", "-codegen-data-generate"],
                   check=True, capture_output=True)
    for ir in saved:
        stem = ir.name[:-len(".opt.bc")]
        assert (again / f"{stem}.o").read_bytes() == (temps / f"{stem}.scratch.o").read_bytes(), stem


def test_same_file_names_in_different_directories(twopass, tmp_path):
    for d in ("left", "right"):
        (tmp_path / d).mkdir()
        shutil.copy(DATA / "x86_64" / "vecops.o", tmp_path / d / "vecops.o")
    shutil.copy(DATA / "x86_64" / "main.o", tmp_path / "left" / "main.o")
    out = tmp_path / "out"
    assert twopass("build", tmp_path / "right", tmp_path / "left", "-o", out, "--rounds", "1").returncode == 0
    assert sorted(outputs(out)) == ["left/vecops.o", "main.o", "right/vecops.o"]


# -- bad inputs ------------------------------------------------------------------------------------------

def corrupt(tmp_path: Path, how: str) -> Path:
    data = (DATA / "x86_64" / "kvstore.o").read_bytes()
    path = tmp_path / f"{how}.bc"
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        cut = len(data) - 3000  # past the module header: only LLVM itself notices
        path.write_bytes(data[:cut] + bytes(b ^ 0x5A for b in data[cut:cut + 200]) + data[cut + 200:])
    elif how == "syntax":
        path = tmp_path / "syntax.ll"
        path.write_text('target triple = "x86_64-unknown-linux-gnu"\ndefine i32 @f( {\n')
    elif how == "abort":  # the integrated assembler rejects the inline asm: a fatal error inside LLVM
        path = tmp_path / "abort.ll"
        path.write_text('target triple = "x86_64-unknown-linux-gnu"\n'  # (used: the thin link must keep it)
                        '@llvm.used = appending global [1 x ptr] [ptr @f], section "llvm.metadata"\n'
                        'define void @f() {\n  call void asm sideeffect "no_such_instruction %eax", ""()\n'
                        '  ret void\n}\n')
    return path


@pytest.mark.parametrize("how,needle", [("truncated", "malformed bitcode"), ("flipped", "invalid LLVM module"),
                                        ("syntax", "expected type"), ("abort", "no_such_instruction")])
def test_bad_modules_fail_cleanly(twopass, tmp_path, how, needle):
    bad = corrupt(tmp_path, how)
    out = tmp_path / "out"
    proc = twopass("build", DATA / "x86_64", bad, "-o", out)
    assert_clean_error(proc, str(bad), needle)
    assert not out.exists() or outputs(out) == {}


def test_keep_going_builds_the_rest(twopass, tmp_path):
    bad = corrupt(tmp_path, "abort")
    out = tmp_path / "out"
    proc = twopass("build", DATA / "x86_64", bad, "-o", out, "--keep-going")
    assert_clean_error(proc, str(bad))
    assert len(outputs(out)) == len(list((DATA / "x86_64").glob("*.o")))


def test_bad_invocations(twopass, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    out = tmp_path / "out"
    assert_clean_error(twopass("build", tmp_path / "missing.bc", "-o", out), "missing.bc", "No such file")
    assert_clean_error(twopass("build", empty, "-o", out), str(empty), "no LLVM modules")
    assert_clean_error(twopass("build", DATA / "x86_64" / "main.o", DATA / "aarch64" / "vecops.o", "-o", out),
                       "mixed target triples")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_clean_error(twopass("build", DATA / "x86_64", "-o", blocker / "out"), "cannot write")
    assert_clean_error(twopass("build", DATA / "x86_64" / "main.o", DATA / "x86_64" / "main.o", "-o", out),
                       "given twice")
    assert not out.exists()


def test_response_files_overrides_and_verbose_worker_logs(twopass, tmp_path):
    rsp = tmp_path / "inputs.rsp"
    rsp.write_text(f"# modules\n{DATA / 'x86_64' / 'vecops.o'}\n'{DATA / 'x86_64' / 'strutil.o'}'\n")
    proc = twopass("build", f"@{rsp}", "-o", tmp_path / "a", "-v", "--no-cache")
    assert proc.returncode == 0
    err = proc.stderr.decode()
    # Worker processes log through a queue into this process's stderr.
    assert err.count("INFO: ") >= 4 and "vecops.o: parse" in err and "strutil.o: parse" in err
    assert sorted(outputs(tmp_path / "a")) == ["strutil.o", "vecops.o"]
    assert twopass("build", f"@{rsp}", "-o", tmp_path / "b", "-q").stderr == b""
    assert twopass("build", f"@{rsp}", "-o", tmp_path / "c", "--target-cpu", "znver4", "-q").returncode == 0
    assert twopass("build", f"@{rsp}", "-o", tmp_path / "d", "--relocation-model", "static", "-q").returncode == 0
    same = outputs(tmp_path / "b")
    assert same == outputs(tmp_path / "a")
    assert outputs(tmp_path / "c") != same and outputs(tmp_path / "d") != same


def test_progress_line_on_a_terminal(tmp_path):
    import pty

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "twopass", "build", str(DATA / "x86_64"), "-o", str(out), "--no-cache"]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["PYTHONPATH"] = str(HERE.parent)
        os.execv(sys.executable, cmd)
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    text = b"".join(chunks).decode()
    assert os.WEXITSTATUS(status) == 0
    assert "[round 1 7/7]" in text and "[round 2 7/7]" in text and "built 7/7 modules" in text


def _fork_server_of(pid: int) -> bool:
    return any(parent == pid and name == "twopass-server" for _, parent, _, _, name in processes())


def test_ctrl_c_at_any_moment_stops_the_build_cleanly(tmp_path):
    """SIGINT to the build's process group, as a terminal sends it, at moments from the fork server's start
    (still importing, a fork half done) to the rounds: one line, status 130, no outputs, no process left.
    (Before the build's first line runs, python itself is still starting, and says so in its own way.)"""
    import signal
    import time

    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    interrupted = 0
    for delay in (0.0, 0.02, 0.04, 0.07, 0.1, 0.2, 0.4):
        out = tmp_path / f"out-{delay}"
        proc = subprocess.Popen([sys.executable, "-m", "twopass", "build", str(DATA / "x86_64"), "-o", str(out),
                                 "-j", "2", "-q", "--no-cache"], stderr=subprocess.PIPE, text=True, env=env,
                                start_new_session=True)
        deadline = time.monotonic() + 30
        while not _fork_server_of(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGINT)
        err = proc.communicate(timeout=60)[1]
        if proc.returncode == 0:  # done before the signal came
            continue
        interrupted += 1
        assert proc.returncode == 130 and err == "error: interrupted\n", (delay, proc.returncode, err)
        assert not out.exists() or not any(out.iterdir())
        deadline = time.monotonic() + 5
        while (left := [p for p in processes() if p[2] == proc.pid]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert left == [], f"processes left after an interrupt at {delay} s: {left}"
    assert interrupted >= 5
