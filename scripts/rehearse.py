"""Deploy rehearsal without an AWS account (`make rehearse`, run by CI after the tests; issue 17).

1. cfn-lint on template.yaml and on its SAM transform.
2. asl-validator (npm) on every state machine definition after its DefinitionSubstitutions.
3. A real `sam build` (functions/Makefile: arm64, python3.12 wheels, no Docker) and the package-size gate.
4. Each handler run Lambda-like: the same per-function package built for this machine, run by
   `python -S` with only that package (and the boto3 the Lambda runtime provides) on sys.path, in its own
   process, invoked by the real ASL in the local runtime and calling AWS through a moto server.

Prints one JSON line per function: {function, package_bytes, peak_mb, cold_cpu_s, ...}; exits 1 when a
gate fails (package > 150 MiB, peak memory > 60 % of MemorySize, Persist's cold start > 1 s CPU).
5. The functions that carry the offline models (IndexFaces: hybrid and local; DetectLabels: local) run
   again as those modes run them on AWS, in fresh processes at the mode's MemorySize, on view images with
   a face: one more JSON line each ({function, recognizer, package_bytes, peak_mb, cold_cpu_s,
   warm_cpu_ms_per_photo, ...}). Gates: package ≤ 262,144,000 bytes (Lambda's unzipped limit; reported
   against the 150 MiB target too), peak memory ≤ 60 % of MemorySize.
package_bytes is the unzipped `sam build` artifact (arm64); peak_mb (VmHWM) and cold_cpu_s (CPU of the
worker process through its first invocation: interpreter start, imports, the handler) come from the
host build, which differs from it only in the platform of its compiled wheels. The recognizer is "none"
(moto has no IndexFaces), so DetectLabels/IndexFaces measure the step, not Rekognition's client.
`REHEARSE_PROFILE_FUNCTION=PersistFunction` writes a cProfile of that function's first invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "rehearse"
MAX_PACKAGE_BYTES = 150 * 1024 * 1024
LAMBDA_UNZIPPED_LIMIT = 262_144_000
# the functions that carry the offline models, and the mode they run them in (recognition/local/models.py)
OFFLINE_FUNCTIONS = {"IndexFacesFunction": "hybrid", "DetectLabelsFunction": "local"}
OFFLINE_PHOTOS = 8  # view images with a face per offline run: the first is the cold start
MAX_PEAK_SHARE = 0.60
MAX_COLD_CPU_S = {"PersistFunction": 1.0}
# The Lambda python3.12 runtime ships boto3; the Lambda-like run puts the same on sys.path, outside the package.
LAMBDA_RUNTIME_REQUIREMENTS = ["boto3>=1.34,<2"]


def log(message: str) -> None:
    print(f"rehearse: {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ 1. lint

def transformed_template() -> dict:
    from shoebox.validate import sam_transform

    return sam_transform((ROOT / "template.yaml").read_text())


def cfn_lint() -> list[str]:
    from cfnlint.api import ManualArgs, lint

    args = ManualArgs(regions=["us-east-1", "eu-west-1"])
    problems = [f"template.yaml: {m}" for m in lint((ROOT / "template.yaml").read_text(), config=args)
                if m.rule.id.startswith("E")]
    cfn = json.dumps(transformed_template(), indent=1)
    problems += [f"transformed: {m}" for m in lint(cfn, config=args) if m.rule.id.startswith("E")]
    return problems


# ------------------------------------------------------------------------------------- 2. ASL

def substituted_definitions() -> dict[str, str]:
    """Each state machine's definition with its DefinitionSubstitutions resolved as CloudFormation would."""
    from samtranslator.yaml_helper import yaml_parse

    sam = yaml_parse((ROOT / "template.yaml").read_text())
    params = {k: str(v.get("Default", "")) for k, v in sam.get("Parameters", {}).items()}
    account, region = "123456789012", "us-east-1"

    def value(v: Any) -> str:
        if isinstance(v, dict) and "Fn::GetAtt" in v:
            logical = v["Fn::GetAtt"][0] if isinstance(v["Fn::GetAtt"], list) else v["Fn::GetAtt"].split(".")[0]
            return f"arn:aws:lambda:{region}:{account}:function:shoebox-{logical}"
        if isinstance(v, dict) and "Ref" in v:
            return params.get(v["Ref"], f"shoebox-{v['Ref'].lower()}")
        return str(v)

    out = {}
    for logical, resource in sam["Resources"].items():
        if resource["Type"] != "AWS::Serverless::StateMachine":
            continue
        text = (ROOT / resource["Properties"]["DefinitionUri"]).read_text()
        for name, v in (resource["Properties"].get("DefinitionSubstitutions") or {}).items():
            text = text.replace("${%s}" % name, value(v))
        json.loads(text)
        out[logical] = text
    return out


def asl_validate() -> list[str]:
    validator = ROOT / "node_modules" / ".bin" / "asl-validator"
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for logical, text in substituted_definitions().items():
            path = Path(tmp) / f"{logical}.json"
            path.write_text(text)
            run = subprocess.run([str(validator), "--json-path", str(path)], capture_output=True, text=True)
            if run.returncode != 0:
                problems.append(f"{logical}: {run.stdout.strip()} {run.stderr.strip()}")
    return problems


# ---------------------------------------------------------------------------------- 3. packages

def functions(recognizer: str | None = None) -> dict[str, dict]:
    """Each function's handler and MemorySize as deployed with the defaults (or with ``recognizer``)."""
    from samtranslator.yaml_helper import yaml_parse

    sam = yaml_parse((ROOT / "template.yaml").read_text())
    if recognizer:
        sam["Parameters"]["Recognizer"]["Default"] = recognizer
    memory = sam["Globals"]["Function"].get("MemorySize", 128)
    from shoebox.validate import as_deployed

    return {name: {"memory_mb": int(as_deployed(sam, r["Properties"].get("MemorySize", memory))),
                   "handler": r["Properties"]["Handler"]}
            for name, r in sam["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def sam_build() -> Path:
    build = OUT / "sam"
    shutil.rmtree(build, ignore_errors=True)
    sam = ROOT / ".venv-sam" / "bin" / "sam"
    python, version = host_python()
    env = {**os.environ, "BUILD_PYTHON": sys.executable, "SAM_CLI_TELEMETRY": "0",
           "COMPILE_PYTHON": python if version == "3.12" else ""}
    run = subprocess.run([str(sam), "build", "--template-file", str(ROOT / "template.yaml"), "--base-dir", str(ROOT),
                          "--build-dir", str(build), "--cache-dir", str(OUT / "sam-cache")],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"sam build failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return build


def host_python() -> tuple[str, str]:
    """The interpreter for the Lambda-like runs: python3.12 (Lambda's) when this machine has it."""
    for candidate in ("python3.12", str(Path.home() / ".pyenv" / "versions" / "3.12.1" / "bin" / "python3.12")):
        found = shutil.which(candidate)
        if found:
            try:
                subprocess.run([found, "-S", "-c", "pass"], check=True, capture_output=True)
                return found, "3.12"
            except (OSError, subprocess.CalledProcessError):
                continue
    return sys.executable, f"{sys.version_info.major}.{sys.version_info.minor}"


def host_build(names: list[str], python_version: str) -> tuple[dict[str, Path], Path]:
    """The same packages for this machine's platform (the arm64 ones cannot run here)."""
    import platform

    plat = f"manylinux2014_{platform.machine()}"
    root = OUT / "host"
    shutil.rmtree(root, ignore_errors=True)
    packages = {}
    for name in names:
        packages[name] = root / name
        packages[name].mkdir(parents=True)
        subprocess.run(["make", "-s", "-C", str(ROOT / "functions"), f"build-{name}", f"ARTIFACTS_DIR={packages[name]}",
                        f"PLATFORM={plat}", f"PYTHON_VERSION={python_version}", f"BUILD_PYTHON={sys.executable}",
                        f"COMPILE_PYTHON={host_python()[0]}"],
                       check=True, stdout=subprocess.DEVNULL)
    runtime = root / "_lambda_runtime"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--only-binary=:all:", "--platform", plat,
                    "--python-version", python_version, "--implementation", "cp", "--target", str(runtime),
                    *LAMBDA_RUNTIME_REQUIREMENTS], check=True, stderr=subprocess.DEVNULL)
    # the runtime's boto3 comes compiled for its Python
    subprocess.run([host_python()[0], "-m", "compileall", "-q", "-j", "0", str(runtime)], check=True,
                   stdout=subprocess.DEVNULL)
    return packages, runtime


# ------------------------------------------------------------------------------ 4. Lambda-like run

WORKER = r"""
import json, os, resource, sys, time
package, runtime, handler_ref = sys.argv[1:4]
sys.path[:0] = [package, runtime]
channel = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # anything the handler prints (EMF metrics) goes to stderr, not the protocol

class Context:
    def __init__(self, spec):
        self.__dict__.update(spec)
        self._deadline = time.monotonic() + spec["timeout_s"]
    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))

handler = None
for line in sys.stdin:
    request = json.loads(line)
    try:
        if handler is None:  # Lambda's init phase: import the handler module
            module, _, attr = handler_ref.rpartition(".")
            handler = getattr(__import__(module, fromlist=[attr]), attr)
        profile = os.environ.pop("REHEARSE_PROFILE", None)  # opt-in: profile the first invocation
        if profile:
            import cProfile, pstats
            profiler = cProfile.Profile()
            profiler.enable()
        answer = {"ok": True, "result": handler(request["payload"], Context(request["context"]))}
        if profile:
            profiler.disable()
            with open(profile, "w") as out:
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
    except Exception as exc:
        import traceback
        answer = {"ok": False, "result": {"errorType": type(exc).__name__, "errorMessage": str(exc) or type(exc).__name__,
                                          "stackTrace": traceback.format_exception(exc)[-5:]}}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    answer["cpu_s"] = usage.ru_utime + usage.ru_stime
    with open("/proc/self/status") as status:  # VmHWM: this process's peak (ru_maxrss counts the parent's before exec)
        answer["peak_mb"] = int(status.read().split("VmHWM:")[1].split()[0]) / 1024
    channel.write(json.dumps(answer, default=str) + "\n")
    channel.flush()
"""


class Worker:
    """One function's process: started on its first invocation (a cold start), reused after."""

    def __init__(self, name: str, python: str, package: Path, runtime: Path, handler: str, env: dict) -> None:
        self.name, self.lock = name, threading.Lock()
        self.proc = subprocess.Popen([python, "-S", "-c", WORKER, str(package), str(runtime), handler],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env)
        self.cold_cpu_s: float | None = None
        self.peak_mb = 0.0
        self.invocations = self.errors = 0
        self.cpu_s: list[float] = []  # the process's CPU after each invocation

    def __call__(self, payload: dict, context: Any) -> Any:
        spec = {k: getattr(context, k) for k in ("function_name", "memory_limit_in_mb", "invoked_function_arn",
                                                  "aws_request_id", "timeout_s", "function_version",
                                                  "log_group_name", "log_stream_name")}
        with self.lock:
            self.proc.stdin.write(json.dumps({"payload": payload, "context": spec}) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: the worker process died")
        answer = json.loads(line)
        self.invocations += 1
        if self.cold_cpu_s is None:
            self.cold_cpu_s = answer["cpu_s"]
        self.cpu_s.append(answer["cpu_s"])
        self.peak_mb = max(self.peak_mb, answer["peak_mb"])
        if not answer["ok"]:
            self.errors += 1
            error = type(answer["result"]["errorType"], (Exception,), {})(answer["result"]["errorMessage"])
            raise error
        return answer["result"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def face_views(count: int) -> list[bytes]:
    """``count`` different 1920 px view images with a face (the astronaut sample, reframed each time: the
    recognizer remembers the faces of an image it has seen)."""
    from io import BytesIO

    from PIL import Image

    with Image.open(ROOT / "functions" / "shoebox" / "data" / "samples" / "astronaut.jpg") as im:
        photo = im.convert("RGB")
    views = []
    for k in range(count):
        w, h = photo.size
        crop = photo.crop((k * 4, k * 3, w - k * 2, h - k * 5)).resize((1920, 1920 * (h - k * 8) // (w - k * 6)))
        out = BytesIO()
        crop.save(out, "JPEG", quality=85)
        views.append(out.getvalue())
    return views


def offline_runs(rt: Any, packages: dict[str, Path], runtime: Path, python: str, base_env: dict) -> dict[str, Worker]:
    """Each model-carrying function in a fresh process as its offline mode runs on AWS (faces filed in the
    DynamoDB face index), invoked on OFFLINE_PHOTOS view images with a face, one after another."""
    from shoebox.local.lambda_bridge import LambdaContext

    workers = {}
    views = face_views(OFFLINE_PHOTOS)
    for k, view in enumerate(views):
        rt.s3.put_object(Bucket=rt.bucket, Key=f"thumbnails/rehearse/face-{k}-view.jpg", Body=view)
    for name, mode in OFFLINE_FUNCTIONS.items():
        spec = rt.stack.functions[name]
        memory = functions(mode)[name]["memory_mb"]
        env = {**base_env, **spec.environment, **{k: os.environ[k] for k in rt.stack.global_environment if k in os.environ},
               "SHOEBOX_RECOGNIZER": mode, "SHOEBOX_FACE_INDEX": "dynamodb",
               "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory), "AWS_LAMBDA_FUNCTION_NAME": name}
        worker = workers[name] = Worker(f"{name}:{mode}", python, packages[name], runtime, spec.handler, env)
        worker.memory_mb, worker.mode = memory, mode
        try:
            for k in range(len(views)):
                context = LambdaContext(function_name=name, memory_limit_in_mb=memory, invoked_function_arn=spec.arn,
                                        aws_request_id=f"rehearse-{k}", timeout_s=spec.timeout_s)
                result = worker({"bucket": rt.bucket, "key": f"originals/rehearse/face-{k}.jpg",
                                 "thumbnails": {"view": {"key": f"thumbnails/rehearse/face-{k}-view.jpg"}}}, context)
                found = result.get("faces") if name == "IndexFacesFunction" else [
                    lb for lb in result["labels"] if lb["name"] == "Person"]
                assert found, f"{name} ({mode}) found no face in a view image with one: {result}"
        finally:
            worker.close()
    return workers


def lambda_like_run(packages: dict[str, Path], runtime: Path, python: str) -> tuple[dict[str, Worker], dict[str, Worker]]:
    from moto.server import ThreadedMotoServer

    sys.path.insert(0, str(ROOT / "tests"))
    from photo_factory import jpeg_bytes
    from PIL import Image

    from shoebox.backfill.run import local_target, run_backfill
    from shoebox.local import LocalRuntime

    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server: no line per request
    home = Path(tempfile.mkdtemp(prefix="shoebox-rehearse-"))
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    workers: dict[str, Worker] = {}
    aws_config = home / "aws-config"
    aws_config.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
    try:
        with LocalRuntime(home, recognizer="none", retry_sleep_scale=0) as rt:
            server.start()
            base_env = {"PATH": os.environ.get("PATH", ""), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": str(aws_config),
                        "POWERTOOLS_TRACE_DISABLED": "true", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "0",
                        "SHOEBOX_RETRY_SLEEP_SCALE": "0"}
            for spec in rt.stack.functions.values():
                env = {**base_env, **spec.environment,
                       # what the local runtime runs with (moto has no IndexFaces): the recognizer "none"
                       **{k: os.environ[k] for k in rt.stack.global_environment if k in os.environ}}
                env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(spec.memory_mb)
                # IndexFaces runs only after a Person label, which the recognizer "none" never gives
                env["SHOEBOX_FACES_ONLY_WITH_PERSON"] = "false"
                if spec.logical_id == os.environ.get("REHEARSE_PROFILE_FUNCTION"):
                    env["REHEARSE_PROFILE"] = str(OUT / f"profile-{spec.logical_id}.txt")
                worker = Worker(spec.logical_id, python, packages[spec.logical_id], runtime, spec.handler, env)
                workers[spec.logical_id] = worker
                rt.bridge.replace_handler(spec.logical_id, worker)

            from io import BytesIO

            image = Image.open(BytesIO(jpeg_bytes((1600, 1200))))
            exif = Image.Exif()
            exif[0x8825] = {1: "N", 2: (48.0, 51.0, 23.76), 3: "E", 4: (2.0, 21.0, 7.92)}  # Paris
            gps_photo = BytesIO()
            image.save(gps_photo, "JPEG", exif=exif.tobytes())
            # one at a time: each function's first invocation (its cold start) is the first photo's, with GPS
            for body, key in [(gps_photo.getvalue(), "originals/2024/06/01/paris.jpg"),
                              (jpeg_bytes((900, 600)), "originals/2024/06/02/plain photo.jpg"),
                              (b"not a photo\n" * 20, "originals/2024/06/03/notes.jpg")]:
                rt.wait([rt.upload(body, key)])
            # IndexFaces runs only after a Person label, which the recognizer "none" never gives: invoke it
            # as the state machine would for the first photo
            from shoebox.catalog import Catalog

            paris = Catalog(rt.table).get_photo("originals/2024/06/01/paris.jpg")
            assert paris is not None and paris.status == "processed", paris
            assert (paris.place or {}).get("city") == "Paris", paris.place
            ok, result = rt.bridge.invoke(rt.stack.functions["IndexFacesFunction"].arn,
                                          {"bucket": rt.bucket, "key": paris.key, "thumbnails": paris.thumbnails})
            assert ok, result
            rt.s3.delete_object(Bucket=rt.bucket, Key="originals/2024/06/02/plain photo.jpg")
            deadline = time.monotonic() + 120
            while workers["RemovePhotoFunction"].invocations == 0 and time.monotonic() < deadline:
                time.sleep(0.5)
            run_backfill(local_target(rt), None, max_concurrency=4, poll_s=1)
            offline = offline_runs(rt, packages, runtime, python, base_env)
    finally:
        server.stop()
        for worker in workers.values():
            worker.close()
        shutil.rmtree(home, ignore_errors=True)
    return workers, offline


# -------------------------------------------------------------------------------------------- main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-sam", action="store_true", help="no sam build (size gate on the host build)")
    args = parser.parse_args()
    failures: list[str] = []
    started = time.monotonic()

    problems = cfn_lint()
    log(f"cfn-lint: {len(problems)} errors")
    failures += problems
    problems = asl_validate()
    log(f"asl-validator: {len(problems)} problems in {len(substituted_definitions())} definitions")
    failures += problems

    specs = functions()
    sizes: dict[str, int] = {}
    if not args.skip_sam:
        build = sam_build()
        sizes = {name: tree_bytes(build / name) for name in specs}
        log(f"sam build: {len(sizes)} functions")
    python, version = host_python()
    packages, runtime = host_build(list(specs), version)
    log(f"host packages for python {version}: built")
    workers, offline = lambda_like_run(packages, runtime, python)

    for name, spec in specs.items():
        worker = workers[name]
        line = {"function": name, "package_bytes": sizes.get(name, tree_bytes(packages[name])),
                "peak_mb": round(worker.peak_mb, 1), "cold_cpu_s": round(worker.cold_cpu_s or 0.0, 3),
                "memory_mb": spec["memory_mb"], "invocations": worker.invocations, "errors": worker.errors}
        print(json.dumps(line), flush=True)
        # the model-carrying functions are held to Lambda's limit (and reported against 150 MiB below)
        limit_bytes = LAMBDA_UNZIPPED_LIMIT if name in OFFLINE_FUNCTIONS else MAX_PACKAGE_BYTES
        if line["package_bytes"] > limit_bytes:
            failures.append(f"{name}: package {line['package_bytes']} bytes > {limit_bytes}")
        if worker.invocations == 0:
            failures.append(f"{name}: never invoked in the Lambda-like run")
        if worker.peak_mb > MAX_PEAK_SHARE * spec["memory_mb"]:
            failures.append(f"{name}: peak {worker.peak_mb:.0f} MB > {MAX_PEAK_SHARE:.0%} of {spec['memory_mb']} MB")
        limit = MAX_COLD_CPU_S.get(name)
        if limit is not None and (worker.cold_cpu_s or 0) > limit:
            failures.append(f"{name}: cold start {worker.cold_cpu_s:.2f} s CPU > {limit} s")
    for name, worker in offline.items():
        size = sizes.get(name, tree_bytes(packages[name]))
        warm = [b - a for a, b in zip(worker.cpu_s, worker.cpu_s[1:])]
        line = {"function": name, "recognizer": worker.mode, "package_bytes": size,
                "package_share_of_150_mib": round(size / MAX_PACKAGE_BYTES, 3),
                "peak_mb": round(worker.peak_mb, 1), "cold_cpu_s": round(worker.cold_cpu_s or 0.0, 3),
                "warm_cpu_ms_per_photo": round(1000 * sorted(warm)[len(warm) // 2], 1) if warm else None,
                "memory_mb": worker.memory_mb, "invocations": worker.invocations, "errors": worker.errors}
        print(json.dumps(line), flush=True)
        if size > LAMBDA_UNZIPPED_LIMIT:
            failures.append(f"{name}: package {size} bytes > Lambda's {LAMBDA_UNZIPPED_LIMIT}")
        if worker.peak_mb > MAX_PEAK_SHARE * worker.memory_mb:
            failures.append(f"{name} ({worker.mode}): peak {worker.peak_mb:.0f} MB > {MAX_PEAK_SHARE:.0%} of "
                            f"{worker.memory_mb} MB")
    log(f"done in {time.monotonic() - started:.0f} s")
    for failure in failures:
        log(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
