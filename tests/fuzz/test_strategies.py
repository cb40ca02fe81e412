"""The scenario-document strategies: every document valid and small, every world feature and fault kind reachable.

"For every document" properties are checked on a sample drawn once per module from a fixed seed. "Some document"
properties (a feature is reachable) use :func:`hypothesis.find`, which keeps searching until it finds one: Hypothesis
biases generation with constants of the modules loaded, so a fixed sample's content depends on what else the test
session imported, while reachability does not. No engine runs here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from random import Random
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from harness.fuzz.strategies import (
    LAMBDA_ACCOUNT,
    MAX_ACCOUNTS,
    MAX_FAULTS,
    MAX_GROUPS,
    MAX_STALE_RECORDS,
    SEQUENTIAL_TABLE_OPERATIONS,
    SESSION_NAMES,
    UNKNOWN_INSTANCE_IDS,
    active_regions,
    drs_faults,
    dynamodb_faults,
    ec2_faults,
    effects,
    may_scan_all_regions,
    scenario_documents,
    splits_region_status_batch,
    sts_faults,
)
from harness.scenario.errors import CATALOGUE
from harness.scenario.loading import check_document, document_scenario

SAMPLE_SIZE = 300
SAMPLE_SEED = 20260115
#: How many of the sample are validated in full (validation costs about 25 ms a document).
VALIDATED = 100
EFFECT_KINDS = ("error", "connection", "timeout", "malformed", "credentials")
FAULT_STRATEGIES = {"drs": drs_faults, "sts": sts_faults, "ec2": ec2_faults, "dynamodb": dynamodb_faults}
_FIND_SETTINGS = settings(
    max_examples=5000,
    database=None,
    phases=(Phase.generate,),
    suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example),
)


def sample_documents(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` documents drawn by Hypothesis from ``seed`` (generation phase only, no shrinking)."""
    documents: list[dict[str, Any]] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example),
    )
    @hypothesis_seed(seed)
    @given(scenario_documents())
    def collect(doc: dict[str, Any]) -> None:
        documents.append(doc)

    collect()
    return documents


@functools.cache
def _sample() -> tuple[dict[str, Any], ...]:
    return tuple(sample_documents(SAMPLE_SIZE, SAMPLE_SEED))


def reach(predicate: Callable[[Any], bool], strategy: st.SearchStrategy[Any] | None = None) -> Any:
    """A value of ``strategy`` (default: whole documents) satisfying ``predicate``; fails the test when none is.

    Whole documents are looked for in the module's sample first (drawn from the same strategy, made once): a search
    from scratch draws up to 5,000 documents at ~50 ms each.
    """
    if strategy is None:
        found = next((doc for doc in _sample() if predicate(doc)), None)
        if found is not None:
            return found
    return find(
        scenario_documents() if strategy is None else strategy, predicate, settings=_FIND_SETTINGS, random=Random(0)
    )


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    """The module's sample of generated documents."""
    return list(_sample())


def _faults(documents: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for doc in documents:
        yield from doc.get("faults", [])


def _items(documents: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for doc in documents:
        for group in doc.get("servers", []):
            for item in group.get("items", []):
                yield group, item


def _kind(fault: dict[str, Any]) -> str:
    return fault["effect"].get("kind", "error")


def test_every_document_passes_validation(documents: list[dict[str, Any]]) -> None:
    for doc in documents[:VALIDATED]:
        problems = check_document(doc)
        assert problems == [], [str(problem) for problem in problems]
        assert document_scenario(doc).name == "fuzz-example"


def test_worlds_stay_small(documents: list[dict[str, Any]]) -> None:
    for doc in documents:
        groups = doc.get("servers", [])
        tables = doc.get("tables", {})
        assert len(doc["accounts"]) <= MAX_ACCOUNTS
        assert len(groups) <= MAX_GROUPS
        assert sum(group.get("count", 0) + len(group.get("items", [])) for group in groups) <= MAX_GROUPS * 4
        assert all(group.get("count", 0) + len(group.get("items", [])) >= 1 for group in groups)
        assert len(doc.get("faults", [])) <= MAX_FAULTS
        assert len(tables.get("inventory", [])) <= MAX_STALE_RECORDS
        assert len(tables.get("activeRegions", [])) <= 3


@pytest.mark.parametrize("service", sorted(FAULT_STRATEGIES))
@pytest.mark.parametrize("kind", EFFECT_KINDS)
def test_every_fault_kind_of_every_service_is_reachable(service: str, kind: str) -> None:
    fault = reach(lambda f: _kind(f) == kind, FAULT_STRATEGIES[service]())
    assert fault["service"] == service


@pytest.mark.parametrize("service", sorted(FAULT_STRATEGIES))
def test_documents_carry_faults_of_every_service(service: str) -> None:
    doc = reach(lambda d: len(d.get("faults", [])) > 1 and any(f["service"] == service for f in d["faults"]))
    assert check_document(doc) == []


@pytest.mark.parametrize("service", sorted(CATALOGUE))
def test_every_error_code_of_each_services_catalogue_is_reachable(service: str) -> None:
    for code in CATALOGUE[service]:
        assert reach(lambda effect, code=code: effect.get("code") == code, effects(service))["code"] == code


def test_error_codes_come_from_each_services_catalogue(documents: list[dict[str, Any]]) -> None:
    for fault in _faults(documents):
        if _kind(fault) == "error":
            assert fault["effect"]["code"] in CATALOGUE[fault["service"]]
    failures = [account["assumeRole"] for doc in documents for account in doc["accounts"] if "assumeRole" in account]
    assert failures and all(failure.get("code", "AccessDenied") in CATALOGUE["sts"] for failure in failures)


def test_unprocessed_page_and_bounded_triggers_are_reachable() -> None:
    reach(lambda d: any(_kind(f) == "unprocessed" for f in d.get("faults", [])))
    reach(
        lambda d: any("page" in (f.get("when") or {}) for f in d.get("faults", []) if isinstance(f.get("when"), dict))
    )
    for service in FAULT_STRATEGIES:
        reach(lambda f: f.get("when") == "once" or "first" in f.get("when", {}), FAULT_STRATEGIES[service]())


def test_unprocessed_and_page_triggers_only_where_the_world_supports_them(documents: list[dict[str, Any]]) -> None:
    for fault in _faults(documents):
        when = fault.get("when")
        if _kind(fault) == "unprocessed":
            assert (fault["service"], fault["operation"]) == ("dynamodb", "BatchWriteItem")
            assert when == "once" or set(when) == {"first"}
        if isinstance(when, dict) and "page" in when:
            assert (fault["service"], fault["operation"]) == ("drs", "DescribeSourceServers")


def test_bounded_triggers_only_match_calls_made_one_after_another(documents: list[dict[str, Any]]) -> None:
    bounded = [
        fault
        for fault in _faults(documents)
        if fault.get("when") == "once" or (isinstance(fault.get("when"), dict) and "first" in fault["when"])
    ]
    assert bounded
    for fault in bounded:
        if fault["service"] == "drs":
            assert "region" in fault
        elif fault["service"] == "ec2":
            assert "account" in fault and "region" in fault
        elif fault["service"] == "sts":
            assert fault.get("sessionName") == SESSION_NAMES[0]
        else:
            assert (fault.get("table"), fault.get("operation")) in SEQUENTIAL_TABLE_OPERATIONS


def _rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["accounts"]


def _properties(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [item.get("drs", {}).get("sourceProperties", {}) for _, item in _items([doc])]


def _origins(doc: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        (g, i["drs"]["sourceCloudProperties"]) for g, i in _items([doc]) if "sourceCloudProperties" in i.get("drs", {})
    ]


def _staging(doc: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    return [(g, i["drs"]["stagingArea"]) for g, i in _items([doc]) if "stagingArea" in i.get("drs", {})]


def _records(doc: dict[str, Any]) -> tuple[int, int]:
    """(records matching an explicit server, stale records) of a document."""
    explicit = {(i["drs"]["arn"], g["account"]) for g, i in _items([doc]) if i.get("drs", {}).get("arn")}
    keys = [(r["sourceServerArn"], r["stagingAccountId"]) for r in doc.get("tables", {}).get("inventory", [])]
    matching = sum(1 for key in keys if key in explicit)
    return matching, len(keys) - matching


#: World features the issue asks for, each as a predicate some generated document must satisfy.
FEATURES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "no target accounts": lambda d: not _rows(d),
    "three target accounts": lambda d: len(_rows(d)) == MAX_ACCOUNTS,
    "the Lambda's own account as a target": lambda d: any(r["accountId"] == LAMBDA_ACCOUNT for r in _rows(d)),
    "a target without roleArn": lambda d: any(
        "roleArn" not in r and r["accountId"] != LAMBDA_ACCOUNT for r in _rows(d)
    ),
    "an empty roleArn": lambda d: any(r.get("roleArn") == "" for r in _rows(d)),
    "a NULL roleArn": lambda d: any("roleArn" in r and r["roleArn"] is None for r in _rows(d)),
    "a role in another account": lambda d: any(
        f":{r['accountId']}:" not in r.get("roleArn", f":{r['accountId']}:") for r in _rows(d) if r.get("roleArn")
    ),
    "an externalId": lambda d: any(r.get("externalId") for r in _rows(d)),
    "no externalId": lambda d: any("externalId" not in r for r in _rows(d)),
    "an empty externalId": lambda d: any(r.get("externalId") == "" for r in _rows(d)),
    "a failing role assumption": lambda d: any("assumeRole" in r for r in _rows(d)),
    "a cross-account origin": lambda d: any(o["originAccountID"] != g["account"] for g, o in _origins(d)),
    "a cross-region origin": lambda d: any(o["originRegion"] != g["region"] for g, o in _origins(d)),
    "a staging area in another account": lambda d: any(
        a and a.get("stagingAccountID") != g["account"] for g, a in _staging(d)
    ),
    "no staging area": lambda d: any(a is None for _, a in _staging(d)),
    "an empty stagingAccountID": lambda d: any(a and a.get("stagingAccountID") == "" for _, a in _staging(d)),
    "no NICs": lambda d: any(p.get("networkInterfaces") == [] for p in _properties(d)),
    "a first NIC with empty ips": lambda d: any(
        p.get("networkInterfaces") and p["networkInterfaces"][0].get("ips") == [] for p in _properties(d)
    ),
    "a first NIC without an ips key": lambda d: any(
        p.get("networkInterfaces") and "ips" not in p["networkInterfaces"][0] for p in _properties(d)
    ),
    "no CPUs": lambda d: any(p.get("cpus") == [] for p in _properties(d)),
    "several disks": lambda d: any(len(p.get("disks", [])) > 2 for p in _properties(d)),
    "no hostname": lambda d: any(p.get("identificationHints", {}).get("hostname", "") is None for p in _properties(d)),
    "an unknown awsInstanceID": lambda d: any(
        p.get("identificationHints", {}).get("awsInstanceID") in UNKNOWN_INSTANCE_IDS for p in _properties(d)
    ),
    "an empty arn": lambda d: any(i.get("drs", {}).get("arn") == "" for _, i in _items([d])),
    "an EC2 instance": lambda d: any(g.get("ec2Instances", True) for g in d.get("servers", [])),
    "a server without EC2 instance": lambda d: any(i.get("ec2", {}).get("create") is False for _, i in _items([d])),
    "a stopped instance": lambda d: any(i.get("ec2", {}).get("state") == "stopped" for _, i in _items([d])),
    "a stale record": lambda d: _records(d)[1] > 0,
    "a record matching a server": lambda d: _records(d)[0] > 0,
    "a primed inventory": lambda d: d.get("tables", {}).get("primeInventory") is True,
    "a primed inventory with stale records and a DRS fault": lambda d: (
        d.get("tables", {}).get("primeInventory") is True
        and _records(d)[1] > 0
        and any(f["service"] == "drs" for f in d.get("faults", []))
    ),
    "all 28 regions scanned": lambda d: not d.get("tables", {}).get("activeRegions"),
    "every listed active region switched off by its row": lambda d: (
        bool(d.get("tables", {}).get("activeRegions")) and not active_regions(d["tables"])
    ),
    "three active regions": lambda d: len(d.get("tables", {}).get("activeRegions", [])) == 3,
    "an inactive region-status row": lambda d: any(
        r["serverCount"] == 0 for r in d.get("tables", {}).get("regionStatus", [])
    ),
    "a table variable unset": lambda d: bool(d.get("environment")),
    "small DRS pages": lambda d: d.get("drsPageSize") == 1,
    "a role requiring the row's ExternalId": lambda d: any(
        r.get("role", {}).get("externalId") == r.get("externalId") for r in _rows(d) if "role" in r
    ),
    "a role requiring an ExternalId the row does not send": lambda d: any(
        "role" in r and r["role"]["externalId"] != r.get("externalId") for r in _rows(d)
    ),
    "an origin account's role requiring an ExternalId": lambda d: bool(d.get("roles")),
    "a target-accounts table of several scan pages": lambda d: (
        d.get("dynamodbPageSize", {}).get("targetAccounts", 99) < len(_rows(d))
    ),
    "an inventory table of several scan pages": lambda d: "inventory" in d.get("dynamodbPageSize", {}),
}


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_every_world_feature_is_reachable(feature: str) -> None:
    doc = reach(FEATURES[feature])
    assert check_document(doc) == [], feature


def test_region_status_batch_faults_are_left_out_of_worlds_that_may_scan_every_region(
    documents: list[dict[str, Any]],
) -> None:
    for doc in documents:
        if may_scan_all_regions(doc):
            assert not any(splits_region_status_batch(fault) for fault in doc.get("faults", []))
    reach(lambda d: may_scan_all_regions(d) and bool(d.get("faults")))
    reach(lambda d: any(splits_region_status_batch(fault) for fault in d.get("faults", [])))


def test_primed_inventories_are_frequent(documents: list[dict[str, Any]]) -> None:
    """Data loss in the cleanup only shows where the inventory holds records of live servers."""
    primed = sum(1 for doc in documents if doc.get("tables", {}).get("primeInventory"))
    assert primed >= len(documents) // 3


def test_the_same_seed_draws_the_same_documents() -> None:
    first = sample_documents(25, seed=7)
    assert first == sample_documents(25, seed=7)
    assert first != sample_documents(25, seed=8)
