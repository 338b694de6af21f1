"""Runs AWS CLI commands one after another in one interpreter, for speed.

Each command goes through the CLI's own entry point (awscli.clidriver, what the `aws` script
calls), with a fresh driver and session per command, so arguments, shorthand syntax,
pagination, output formatting and exit codes are the CLI's. Only the process start (about a
second of CPU per command for the CLI v2) is shared.

Protocol: one JSON object per line on stdin, {"id", "args", "env"}; one JSON object per line
on stdout, {"id", "rc", "stdout", "stderr"}. `env` entries are set for that command only.
Every command must name its endpoint with --endpoint-url: nothing may reach real AWS.

`--extend-model SERVICE FRAGMENT DIR` writes the CLI's own model of SERVICE, plus the
operations and shapes of FRAGMENT it lacks, under DIR, as `aws configure add-model` would
under ~/.aws/models; commands run with AWS_DATA_PATH=DIR then have those operations too.
The SQS move-task actions came out after the CLI v2 that Debian 12 ships (2.9.19):
test/compat/sqs-move-tasks.model.json holds them as botocore's SQS model defines them
(documentation dropped), plus the Query serialisation SQS's Query-era models carried (a
`resultWrapper` on each output, `ListMessageMoveTasksResultEntry` as the element name).

Run by test/support/aws-cli.ts.
"""
import contextlib
import io
import json
import os
import sys

from awscli.botocore.loaders import create_loader
from awscli.clidriver import create_clidriver

out = sys.stdout


def extend_model(service, fragment_path, data_dir):
    loader = create_loader()
    version = loader.determine_latest_version(service, "service-2")
    model = loader.load_service_model(service, "service-2", version)
    with open(fragment_path) as f:
        fragment = json.load(f)
    for section in ("operations", "shapes"):
        for name, value in fragment[section].items():
            model[section].setdefault(name, value)
    target = os.path.join(data_dir, service, version)
    os.makedirs(target, exist_ok=True)
    # Several runners write the same file: each replaces it whole, never half-written.
    path = os.path.join(target, "service-2.json")
    with open(f"{path}.{os.getpid()}", "w") as f:
        json.dump(model, f)
    os.replace(f"{path}.{os.getpid()}", path)


args = sys.argv[1:]
while args[:1] == ["--extend-model"]:
    extend_model(*args[1:4])
    args = args[4:]


def run(args, env):
    saved = {k: os.environ.get(k) for k in env}
    if "AWS_DATA_PATH" in env:  # the `aws` script puts the CLI's own data after the caller's
        env = {**env, "AWS_DATA_PATH": env["AWS_DATA_PATH"] + os.pathsep + os.environ["AWS_DATA_PATH"]}
    os.environ.update(env)
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                rc = create_clidriver().main(args)
            except SystemExit as e:  # argument errors exit like the `aws` script does
                rc = e.code if isinstance(e.code, int) else 255
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return rc, stdout.getvalue(), stderr.getvalue()


for line in sys.stdin:
    request = json.loads(line)
    args = request["args"]
    if "--endpoint-url" not in args and "--version" not in args:
        result = {"rc": 255, "stdout": "", "stderr": "refused: no --endpoint-url (nothing may reach real AWS)"}
    else:
        rc, stdout, stderr = run(args, request.get("env") or {})
        result = {"rc": rc, "stdout": stdout, "stderr": stderr}
    out.write(json.dumps({"id": request["id"], **result}) + "\n")
    out.flush()
