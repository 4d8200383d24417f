"""moto's own tests for ecs, events, logs, scheduler, iam and sts, in moto's server mode, against a cronbridge server.

moto's sdist (the version installed here, from the package index: `pip download --no-binary :all: --no-deps`) carries
its tests; nothing else is fetched. Each test is run by pytest in moto's TEST_SERVER_MODE with cronbridge as the
server (state reset before each test), and sorted by what it calls (recorded in the test process):
  passed / failed        in scope: every call is an operation cronbridge serves;
  out of scope           it calls a service cronbridge does not serve (EC2, S3, CloudFormation, Lambda, ...), an
                         operation it does not serve, or no AWS operation at all (moto's internals);
  moto-only              moto expects what AWS does not do (MOTO_ONLY below: each with the AWS documentation).
The report (JSON) lists every test with its class, calls and first error line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.harness import ServerProcess, free_port

SERVICES = ("ecs", "events", "logs", "scheduler", "iam", "sts")
ACCOUNT = "123456789012"  # moto's default account, which its tests expect in ARNs
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cronbridge" / "moto-sdist"
TEST_TIMEOUT = 60  # seconds a test may take before it is failed (a hang is a failure, never a stall of the run)

SCHEDULER_API = "https://docs.aws.amazon.com/scheduler/latest/APIReference"
STS_API = "https://docs.aws.amazon.com/STS/latest/APIReference"
IAM_API = "https://docs.aws.amazon.com/IAM/latest/APIReference"
LOGS_API = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference"
ECS_GUIDE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide"
# moto accepts what AWS refuses: a test failing with one of these refusals of cronbridge's expects moto's behaviour
# (the error matched, why AWS refuses, and the AWS documentation that says so)
MOTO_ONLY: list[tuple[str, str]] = [
    (r"Invalid Schedule Expression some cron",
     "moto accepts 'some cron' as a ScheduleExpression; AWS takes only at(...), rate(...) or cron(...): "
     "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html"),
    (r"Value 'arn\d*' at 'target.roleArn' failed to satisfy constraint",
     f"moto accepts 'arn2' as a Target.RoleArn; AWS's pattern is an IAM role ARN: {SCHEDULER_API}/API_Target.html"),
    (r"MalformedPolicyDocument.*Syntax errors in policy",
     "moto accepts a document that is not JSON (such as 'some policy') as a policy; IAM refuses it: "
     "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html"),
    (r"LimitExceededException.*PutTargets",
     "moto lets a rule have 6 targets; EventBridge's quota is 5 targets per rule: "
     "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html"),
    (r"MaximumWindowInMinutes must not be specified when the FlexibleTimeWindow Mode is OFF",
     f"moto accepts MaximumWindowInMinutes with Mode OFF; it is only for FLEXIBLE: "
     f"{SCHEDULER_API}/API_FlexibleTimeWindow.html"),
    (r"test_send_to_sqs_\S*: assert 0 == 1",
     "moto delivers an event to any SQS queue; EventBridge delivers only to a queue whose policy allows "
     "events.amazonaws.com sqs:SendMessage (cronbridge logs the refusal and counts it as a failed invocation): "
     "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions"),
    (r"Fargate only supports network mode",
     "moto registers a FARGATE task definition without networkMode; ECS refuses it (\"For Amazon ECS tasks on "
     "Fargate, the awsvpc network mode is required\"): "
     "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#network_mode"),
    # ECS
    (r"test_create_cluster_with_tags: AssertionError: assert 'tags' not in \{'tags': \[\]",
     "moto leaves `tags` out of ListTagsForResource for an untagged resource; ECS answers an empty list (its response "
     "syntax is {\"tags\": [...]}, \"Array Members: Minimum number of 0 items\": "
     "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTagsForResource.html; an AWS SDK maintainer "
     "reading ECS's response body: \"the tags portion of the response is empty\": "
     "https://github.com/aws/aws-sdk-go/issues/2883)"),
    (r"test_run_task_default_cluster: AssertionError: assert \{'containerOv.*\} == \{\}",
     "moto shows a task run with overrides {} as {}; ECS shows both lists, empty (the ECS Developer Guide's RunTask "
     "output: \"overrides\": {\"containerOverrides\": [], \"inferenceAcceleratorOverrides\": []}): "
     f"{ECS_GUIDE}/tutorial-cluster-auto-scaling-cli.html"),
    (r"test_run_task_with_capacity_provider_strategy_fargate: AssertionError: assert 'FARGATE' == ''",
     "moto leaves launchType out of a task placed by a capacity provider strategy; ECS shows both (the ECS Developer "
     "Guide's RunTask output for tasks placed by capacity providers: \"launchType\": \"EC2\", "
     "\"capacityProviderName\": \"CLItutorial-capacityprovider\"): "
     f"{ECS_GUIDE}/tutorial-cluster-auto-scaling-cli.html"),
    # EventBridge
    (r"test_(list_event_buses|delete_event_bus): "
     r".*\{'Name': '[^']+', 'Arn': '[^']+', 'Creati",
     "moto lists event buses (the default one too) without their times; EventBridge's EventBus carries them "
     "(\"CreationTime: The time the event bus was created.\" "
     "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_EventBus.html), and "
     "ListEventBuses shows them (recorded against AWS in LocalStack's snapshot "
     "tests/aws/services/events/test_events.snapshot.json, test_create_list_describe_delete_custom_event_buses: "
     "https://github.com/localstack/localstack)"),
    (r"== 'Rule \S+ does not exist\.'",
     "moto words a missing rule 'Rule x does not exist.'; EventBridge names the bus (\"ResourceNotFoundException: "
     "Rule EventRuleNameHere does not exist on EventBus default.\" from DescribeRule: "
     "https://github.com/turbot/steampipe-plugin-aws/issues/1591)"),
    (r"Value '\[PutEventsRequestEntry\]' at 'entries'",
     "moto abbreviates the value of too many PutEvents entries to '[PutEventsRequestEntry]' (its own code says \"the "
     "exact error text is longer\"); EventBridge quotes every entry: \"Value '[PutEventsRequestEntry(time=null, "
     "source=..., ...), ...]' at 'entries' failed to satisfy constraint: Member must have length less than or equal "
     "to 10\" (recorded against AWS in LocalStack's snapshot tests/aws/services/events/test_events.snapshot.json, "
     "test_put_events_exceed_limit_ten_entries: https://github.com/localstack/localstack); the limit is the "
     "documented one: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html"),
    # CloudWatch Logs
    (r"(PutMetricFilter|DeleteMetricFilter) operation: The specified (log group|resource) does not exist",
     "moto puts a metric filter on a log group that does not exist; CloudWatch Logs answers "
     f"ResourceNotFoundException: {LOGS_API}/API_PutMetricFilter.html#API_PutMetricFilter_Errors"),
    (r"\{'tooOldLogEventEndIndex': 1\} == \{'tooOldLogEventEndIndex': 0\}",
     "moto gives the index of the last too-old event; the field is exclusive (\"The index of the last log event "
     f"that is too old. This field is exclusive.\"): {LOGS_API}/API_RejectedLogEventsInfo.html"),
    (r"assert '[fb]/0+\.\.\.\d+' == '[fb]/0|assert '\w+\.\.\.\w+' == '/aws/codebui|== 'dummy@stream"
     r"|(DescribeLogGroups|FilterLogEvents) operation: The specified nextToken is invalid",
     "moto expects its own paging tokens (a stream name, 'f/000...19', 'group@stream@...'), or accepts one it did "
     "not hand out; CloudWatch Logs' tokens are opaque (\"The token for the next set of items to return\"), and a "
     f"token it did not issue is refused: {LOGS_API}/API_DescribeLogStreams.html"),
    (r"test_send_to_cw_log_group: assert False \| \+ +where False = isinstance\(\d+, float\)",
     "moto expects a log event's timestamp as a float; CloudWatch Logs' timestamp is a Long, \"the number of "
     f"milliseconds after Jan 1, 1970 00:00:00 UTC\": {LOGS_API}/API_FilteredLogEvent.html"),
    (r"test_unknown_pattern: assert 0 == 6",
     "moto returns every event for a JSON filter pattern ({$.message = \"hello\"}) over plain-text events; a JSON "
     "pattern only matches JSON log events (\"Base class for patterns that only match JSON log events\": "
     "https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_logs.JsonPattern.html; "
     "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html)"),
    (r"assert '(Minimum length of \d+\. Maximum length of \d+\.|Must match pattern)' in [\"']1 validation error",
     "moto words CloudWatch Logs' constraints its own way ('Minimum length of 1. Maximum length of 512.', 'Must match "
     "pattern'); CloudWatch Logs answers \"Member must have length less than or equal to 512\" and \"Member must "
     "satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+\" "
     "(https://github.com/awslabs/aws-embedded-metrics-java/issues/65, "
     "https://github.com/fluent-plugins-nursery/fluent-plugin-cloudwatch-logs/issues/223); the limits and patterns "
     f"are the documented ones: {LOGS_API}/API_DeleteMetricFilter.html"),
    (r"PutMetricFilter operation: 1 validation error detected: Value '[^']*:[^']*' at "
     r"'metricTransformations\.1\.member\.metricNamespace'",
     "moto takes a metric namespace with ':' in a metric filter (on a log group that does not exist); CloudWatch "
     "Logs' metricNamespace has the pattern [^:*$]* (\"Pattern: [^:*$]*\"), which it checks before it looks the "
     f"group up: {LOGS_API}/API_MetricTransformation.html"),
    (r"test_start_query__unknown_log_group: .*MalformedQueryException",
     "moto accepts 'test' as a Logs Insights query; a query is made of commands (fields, filter, stats, ...: \"To "
     "create queries that contain multiple commands, separate the commands with the pipe character\"), and a bare "
     "word is refused as malformed: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html"),
    # STS
    (r"AQoEXAMPLE|== 'AKIAIOSFODNN7EXAMPLE'",
     "moto hands out the documentation's example credentials; STS issues new ones on every call, and temporary "
     "access key IDs begin with ASIA (AKIA is a long-term key): "
     "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids"),
    (r"assert \d+ == 356\b",
     "moto expects a session token of exactly 356 characters; STS says its size is not fixed (\"We strongly "
     "recommend that you make no assumptions about the maximum size\"): "
     f"{STS_API}/API_Credentials.html"),
    (r"InvalidIdentityToken\).*not a valid JWT",
     "moto accepts '????' as a WebIdentityToken, with no OIDC provider in the account; STS refuses a token it cannot "
     f"validate (InvalidIdentityToken): {STS_API}/API_AssumeRoleWithWebIdentity.html"),
    (r":user/moto'|assert 'admin' == 'default_user'",
     "moto answers its own test keys (FOOBARKEY) as a user 'moto' / 'default_user' of its own; AWS refuses a key it "
     "did not issue (InvalidClientTokenId), and an IAM user's ARN is arn:aws:iam::ACCOUNT:user/NAME "
     f"(GetCallerIdentity's example): {STS_API}/API_GetCallerIdentity.html"),
    (r"not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::(?!123456789012:)\d{12}:",
     "moto lets a caller assume a role in another account that does not exist there (and whose trust policy "
     "cannot name the caller); STS refuses it (AccessDenied: the role must exist and trust the caller): "
     f"{STS_API}/API_AssumeRole.html"),
    # IAM
    (r"Statement IDs \(SID\) must be alpha-numeric",
     "moto accepts a Sid with '_' in it; IAM's Sid \"supports ASCII uppercase letters (A-Z), lowercase letters (a-z), "
     "and numbers (0-9)\": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html"),
    (r"Value '[^']*' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern",
     "moto accepts a Path such as 'my-path' or '/path'; IAM's pattern is (\\u002F)|(\\u002F[\\u0021-\\u007E]+"
     "\\u002F): a path begins and ends with '/': " + f"{IAM_API}/API_CreateRole.html"),
    (r"NoSuchEntity\) when calling the (Delete|Update)AccessKey operation: The Access Key with id \S+ cannot be found",
     "moto finds another user's key when UserName is left out; IAM then acts on the caller's own keys (\"IAM "
     "determines the user name implicitly based on the AWS access key ID signing the request\"): "
     f"{IAM_API}/API_DeleteAccessKey.html"),
    (r"Member must have length (less|greater) than or equal to \d+\.' in \"\d+ validation error"
     r"|assert 'Has prohibited field Resource\.' in 'Has prohibited field Resource'",
     "moto expects IAM's messages to end with a '.' ('...less than or equal to 128.', 'Has prohibited field "
     "Resource.'); IAM's end without one (as IAM answers: https://github.com/NixOS/nixops/issues/328, "
     "https://github.com/hashicorp/terraform/issues/34231); the limits are the documented ones: "
     "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html#id_tags_rules_creating"),
    (r"KeyError: 'Document'",
     "moto returns the document in CreatePolicyVersion and ListPolicyVersions; IAM: \"It is not returned in the "
     f"response to the CreatePolicyVersion or ListPolicyVersions operations\": {IAM_API}/API_PolicyVersion.html"),
    (r"test_list_users: AssertionError: assert 'admin' == 'my-user'",
     "moto's test expects an account without IAM users (cronbridge's has its administrator, whose key signs the "
     "requests) and goes on to create a user with Path 'myUser', which IAM refuses (a path begins and ends with '/', "
     f"pattern (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)): {IAM_API}/API_CreateUser.html"),
    (r"assert '\"clientIDList\" failed to satisfy constraint:' in \"3 validation errors detected: Value '",
     "moto quotes member names with double quotes (\"clientIDList\"); IAM quotes the value and the member with single "
     "quotes, as in \"Value 'x' at 'roleName' failed to satisfy constraint\" "
     "(https://github.com/NixOS/nixops/issues/328); the limits are the documented ones: "
     f"{IAM_API}/API_CreateOpenIDConnectProvider.html"),
    (r"(An error occurred \(InvalidInput\)|assert '(Thumbprint list|Cannot exceed quota)).*"
     r"Invalid Open ID Connect Provider URL\. The URL must begin with https://",
     "moto accepts an OIDC provider URL beginning with http://; IAM: \"The URL must begin with https://\": "
     f"{IAM_API}/API_CreateOpenIDConnectProvider.html"),
    (r"== '(User|Group|Policy) [^' ]+ (already exists|not found)'"
     r"|== '(User|Group) [^' ]*\.\.\.(lready exists|roup \S+)'"
     r"|== 'User \S+ not in group|assert 'not found' in '(The \w+ with name|Instance Profile) \S+ cannot be found\.'"
     r"|== 'Unknown'",
     "moto words IAM's NoSuchEntity / EntityAlreadyExists messages its own way ('Group g not found', 'User u already "
     "exists', 'Unknown'); IAM's messages describe the entity as 'The group with name g cannot be found.' and 'User "
     "with name u already exists.' (the codes are the documented ones, the message \"describes the entity\": "
     f"{IAM_API}/API_GetGroup.html#API_GetGroup_Errors; IAM's wording as it answers, e.g. "
     "https://github.com/nccgroup/ScoutSuite/issues/1320)"),
]

PLUGIN = '''
"""Run inside moto's tests: reset cronbridge before each test, record each AWS operation called, fail a hang."""
import json, os, signal, urllib.request
import botocore.client
import pytest

CALLS = []
_original = botocore.client.BaseClient._make_api_call


def _recording(self, operation_name, api_params):
    CALLS.append((self.meta.service_model.service_name, operation_name))
    return _original(self, operation_name, api_params)


botocore.client.BaseClient._make_api_call = _recording


def _alarm(signum, frame):
    raise TimeoutError("the test took more than %(timeout)s s")


@pytest.fixture(autouse=True)
def _cronbridge_reset():
    request = urllib.request.Request(os.environ["TEST_SERVER_MODE_ENDPOINT"] + "/_cronbridge/reset", data=b"{}",
                                     method="POST")
    urllib.request.urlopen(request, timeout=60).read()
    CALLS.clear()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(%(timeout)s)
    yield
    signal.alarm(0)


def pytest_collectreport(report):
    if report.failed:
        lines = [l for l in str(report.longrepr).splitlines() if l.strip()]
        with open(os.environ["CONFORMANCE_RESULTS"], "a") as out:
            out.write(json.dumps({"test": report.nodeid, "outcome": "uncollectable", "calls": [],
                                  "error": (lines[-1] if lines else "")[:300]}) + "\\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        error = ""
        if report.outcome == "failed":
            lines = [l[1:].strip() for l in report.longreprtext.splitlines() if l.startswith("E ") and l[1:].strip()]
            error = " | ".join(lines[:3])[:400] if lines else report.longreprtext.strip().splitlines()[-1][:300]
        if report.outcome == "skipped" and isinstance(report.longrepr, tuple):
            error = str(report.longrepr[2])[:300]
        with open(os.environ["CONFORMANCE_RESULTS"], "a") as out:
            out.write(json.dumps({"test": item.nodeid, "outcome": report.outcome, "calls": sorted(set(CALLS)),
                                  "error": error}) + "\\n")
'''


def moto_sdist() -> Path:
    """moto's source distribution of the installed version (downloaded once into the cache), extracted."""
    version = metadata.version("moto")
    folder = CACHE / f"moto-{version}"
    if not (folder / "tests").is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", f"moto=={version}",
             "-d", str(CACHE), "-q"],
            check=True, timeout=600,
        )
        with tarfile.open(CACHE / f"moto-{version}.tar.gz") as archive:
            archive.extractall(CACHE, filter="data")
    return folder


def served() -> dict[str, set[str]]:
    """The operations cronbridge serves, by botocore service name."""
    from cronbridge.api.services import registry

    found: dict[str, set[str]] = {}
    services = [*registry.json_services().values(), *registry.rest_services().values(),
                *registry.query_services().values()]
    for service in services:
        found.setdefault(service.model, set()).update(service.operations)
    return found


def classify(result: dict[str, Any], serves: dict[str, set[str]]) -> tuple[str, str]:
    """(class, why) of one test's result."""
    calls = [tuple(c) for c in result["calls"]]
    others = sorted({s for s, _ in calls if s not in serves})
    if others:
        return "out-of-scope", f"needs {', '.join(others)}"
    unserved = sorted({f"{s}:{op}" for s, op in calls if op not in serves[s]})
    if unserved:
        return "out-of-scope", f"operation not served: {', '.join(unserved[:4])}"
    if result["outcome"] == "skipped":
        return "out-of-scope", f"skipped by moto: {result['error']}"
    if result["outcome"] == "uncollectable":
        return "out-of-scope", f"the module needs what is not here: {result['error']}"
    if not calls:
        return "out-of-scope", "moto's internals (no AWS operation called)"
    if result["outcome"] == "passed":
        return "passed", ""
    for pattern, why in MOTO_ONLY:  # matched against "test id: error" (a few are known by their test)
        if re.search(pattern, f"{result['test'].rsplit('::', 1)[-1]}: {result['error']}"):
            return "moto-only", why
    return "failed", result["error"]


def run_tests(source: Path, work: Path, endpoint: str, only: list[str]) -> list[dict[str, Any]]:
    """moto's tests (of `only`, else of SERVICES) in server mode against `endpoint`: one result per test."""
    tests = work / "tests"
    if not tests.exists():
        tests.mkdir()
        for name in ("__init__.py", "conftest.py", "markers.py"):
            (tests / name).write_text((source / "tests" / name).read_text())
        for service in SERVICES:
            subprocess.run(["cp", "-r", str(source / "tests" / f"test_{service}"), str(tests)], check=True)
    (work / "cronbridge_conformance.py").write_text(textwrap.dedent(PLUGIN % {"timeout": TEST_TIMEOUT}))
    results = work / "results.jsonl"
    results.unlink(missing_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TEST_SERVER", "MOTO_"))},
        "TEST_SERVER_MODE": "true", "TEST_SERVER_MODE_ENDPOINT": endpoint, "MOTO_CALL_RESET_API": "false",
        "AWS_ACCESS_KEY_ID": "FOOBARKEY", "AWS_SECRET_ACCESS_KEY": "FOOBARSECRET", "AWS_DEFAULT_REGION": "us-east-1",
        "CONFORMANCE_RESULTS": str(results), "PYTHONPATH": str(work),
    }
    targets = only or [f"tests/test_{s}" for s in SERVICES]
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "cronbridge_conformance",
         "-o", "addopts=", "--rootdir", str(work), "-W", "ignore", "--continue-on-collection-errors", *targets],
        cwd=work, env=env, capture_output=True, text=True, timeout=3600,
    )
    if not results.exists():
        return []
    return [json.loads(line) for line in results.read_text().splitlines()]


def start_server(work: Path) -> ServerProcess:
    args = [sys.executable, "-m", "cronbridge", "server", "--port", "{port}", "--data-dir", str(work / "data"),
            "--allow-reset", "--auth", "open", "--launcher", "process"]
    server = ServerProcess("cronbridge", args, "/_cronbridge/health", work / "server.log",
                           env={"CRONBRIDGE_ACCOUNT_ID": ACCOUNT}, port=free_port())
    return server.start()


def report(results: list[dict[str, Any]], serves: dict[str, set[str]], out: Path) -> dict[str, int]:
    rows = []
    for result in results:
        kind, why = classify(result, serves)
        rows.append({**result, "class": kind, "why": why})
    out.write_text(json.dumps(rows, indent=1))
    counts = Counter(r["class"] for r in rows)
    by_service: dict[str, Counter[str]] = {}
    for row in rows:
        by_service.setdefault(row["test"].split("/")[1].removeprefix("test_"), Counter())[row["class"]] += 1
    print(f"  moto {metadata.version('moto')}'s tests in server mode against cronbridge: {len(rows)} tests")
    print(f"  {'service':<12}{'passed':>8}{'failed':>8}{'out of scope':>14}{'moto-only':>11}")
    for service, found in sorted(by_service.items()):
        print(f"  {service:<12}{found['passed']:>8}{found['failed']:>8}{found['out-of-scope']:>14}"
              f"{found['moto-only']:>11}")
    print(f"  {'all':<12}{counts['passed']:>8}{counts['failed']:>8}{counts['out-of-scope']:>14}"
          f"{counts['moto-only']:>11}")
    failed = [r for r in rows if r["class"] == "failed"]
    for row in failed[:400]:
        print(f"  FAILED {row['test']}: {row['why'][:200]}")
    print(f"  every test, its class, calls and error: {out}")
    return dict(counts)


def chosen_services(quick: bool) -> list[str]:
    """The test folders to run: CRONBRIDGE_CONFORMANCE_SERVICES (`sts,iam`), else scheduler and sts with --quick,
    else every service's."""
    named = [s.strip() for s in os.environ.get("CRONBRIDGE_CONFORMANCE_SERVICES", "").split(",") if s.strip()]
    unknown = sorted(set(named) - set(SERVICES))
    if unknown:
        raise SystemExit(f"CRONBRIDGE_CONFORMANCE_SERVICES: unknown service(s) {', '.join(unknown)}; "
                         f"choose among {', '.join(SERVICES)}")
    if named:
        return [f"tests/test_{s}" for s in named]
    return ["tests/test_scheduler", "tests/test_sts"] if quick else []


def run(quick: bool = False, only: list[str] | None = None) -> None:
    source = moto_sdist()
    keep = os.environ.get("CRONBRIDGE_CONFORMANCE_DIR")
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="bench-conformance-"))
    work.mkdir(parents=True, exist_ok=True)
    server = start_server(work)
    try:
        chosen = only or chosen_services(quick)
        results = run_tests(source, work, server.endpoint, chosen)
    finally:
        server.stop()
    report(results, served(), work / "report.json")


if __name__ == "__main__":
    run(only=sys.argv[1:])
