"""The one place every AWS request of the process goes through while the harness is imported.

botocore emits ``before-send`` for each HTTP attempt and uses the first non-``None`` answer instead of the network.
moto answers through the same event; since botocore calls *every* handler of that event, this module takes moto's
handler out of botocore's built-in list and calls it itself, after the fault layer and the DRS fake, so a faulted
request never reaches moto. A request nobody answers raises :class:`UnmockedRequestError`: nothing leaves the process.
Where moto's answer is not AWS's, :mod:`harness.world.aws.rules` gives AWS's (role trust, repeated instance ids,
DynamoDB scan pages) before moto sees the request.

A failure of the simulator itself (moto or a fake raising, a request nobody answers inside a world) is recorded on the
world's state and raised as :class:`~harness.world.aws.crash.SimulatorCrash`, which the code under test cannot
swallow (:mod:`harness.world.aws.crash`); only the fault layer's deliberate exceptions reach the code as exceptions.

It also records each API call (``before-call``: the wire-level parameters, the account of the credentials and the
client's region) for the engine, and compresses botocore's retry back-off so faulted runs stay fast.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import types
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import botocore.client
import botocore.endpoint
import botocore.session
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.handlers import BUILTIN_HANDLERS
from botocore.loaders import create_loader as _create_loader
from moto.core.models import botocore_stubber

from harness.world.aws.calls import AwsCall
from harness.world.aws.crash import SimulatorCrash, describe_failure
from harness.world.aws.drs_fake import DrsFake, region_of
from harness.world.aws.ec2_captured import CapturedEc2
from harness.world.aws.faults import (
    CallContext,
    FaultPlan,
    LatencyModel,
    answer_fault,
    empty_batch_answer,
    injected_exception,
    make_response,
    split_unprocessed,
    with_unprocessed,
)
from harness.world.aws.rules import WorldRules

logger = logging.getLogger(__name__)


#: The outcome of an attempt a fault answered with a cut-off 200 body (nothing reached the service).
MALFORMED = "malformed"


class UnmockedRequestError(Exception):
    """A request no fake answered: the harness refuses to let it reach the network."""


class WireState:
    """Everything one world's wire needs: identity look-up, tables, fakes, faults, latency and the call log.

    Args:
        account_of: Maps an access key id to its account.
        table_names: Physical table name -> logical name.
        drs: The DRS fake.
        ec2: The EC2 stand-in for captured instances.
        faults: The fault plan.
        latency: The latency model.
        backoff_scale: Fraction of botocore's retry back-off really slept.
        rules: Where the world answers as AWS does rather than as moto would (default: no declared roles or pages).

    Attributes:
        invocation: The Lambda invocation in progress (from 1); recorded on each call and matched by faults.
        failures: What the simulator failed at while answering the code under test (see :mod:`..crash`).
    """

    def __init__(
        self,
        account_of: Callable[[str], str],
        table_names: dict[str, str],
        drs: DrsFake,
        ec2: CapturedEc2,
        faults: FaultPlan,
        latency: LatencyModel,
        backoff_scale: float,
        rules: WorldRules | None = None,
    ) -> None:
        self.account_of = account_of
        self.table_names = table_names
        self.drs = drs
        self.ec2 = ec2
        self.faults = faults
        self.latency = latency
        self.backoff_scale = backoff_scale
        self.rules = rules or WorldRules()
        self.recording = False
        self.invocation = 1
        self.calls: list[AwsCall] = []
        self.failures: list[str] = []
        self.backoff_requested = 0.0
        self.simulator_seconds = 0.0
        #: CPU seconds the code under test spent building botocore clients while recording (its own work).
        self.client_seconds = 0.0
        self.clients_created = 0
        #: Clients of one service model share their generated API methods (see :func:`_sharing_api_methods`);
        #: the benchmark turns this off to measure what a Lambda pays.
        self.share_api_methods = True
        self._lock = threading.Lock()
        self.moto_lock = threading.Lock()

    def record(self, call: AwsCall) -> None:
        """Append a call to the log (thread-safe)."""
        with self._lock:
            self.calls.append(call)

    def charge_simulator(self, seconds: float) -> None:
        """Add CPU time the fakes spent answering the code under test (thread-safe)."""
        with self._lock:
            self.simulator_seconds += seconds

    def charge_client(self, seconds: float) -> None:
        """Add CPU time the code under test spent building one botocore client (thread-safe)."""
        with self._lock:
            self.client_seconds += seconds
            self.clients_created += 1

    def crashed(self, call: AwsCall, error: BaseException) -> SimulatorCrash:
        """Record that the simulator failed answering ``call`` and return the crash to raise (thread-safe)."""
        description = describe_failure(error, f"{call.service}:{call.operation} {_where(call)}")
        with self._lock:
            self.failures.append(description)
        logger.error("simulator failure: %s", description)
        return SimulatorCrash(description)


def _where(call: AwsCall) -> str:
    return f"(account {call.account}, region {call.region})"


_state: WireState | None = None
_current = threading.local()


def activate(state: WireState) -> None:
    """Route every request of the process to ``state`` (one world at a time)."""
    global _state
    if _state is not None:
        raise RuntimeError("a simulated world is already active; worlds cannot nest")
    _state = state
    botocore.endpoint.time = _compressed_time(state)  # type: ignore[attr-defined]


def deactivate() -> None:
    """Stop routing to the current world; requests are refused again."""
    global _state
    _state = None
    botocore.endpoint.time = time  # type: ignore[attr-defined]


def _compressed_time(state: WireState) -> types.SimpleNamespace:
    """A stand-in for the ``time`` module in botocore.endpoint whose ``sleep`` scales retry back-off."""

    def sleep(seconds: float) -> None:
        state.backoff_requested += seconds
        if state.backoff_scale > 0:
            time.sleep(seconds * state.backoff_scale)

    namespace = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("__")})
    namespace.sleep = sleep
    return namespace


def wire_params(service: str, request_dict: dict[str, Any]) -> dict[str, Any]:
    """The API parameters as they go on the wire: JSON bodies decoded, query forms as flat dicts."""
    body = request_dict.get("body")
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k not in ("Action", "Version")}
    if isinstance(body, bytes | bytearray):
        body = body.decode()
    if not body:
        return {}
    if service in ("sts", "ec2"):
        return {k: v for k, v in parse_qsl(body, keep_blank_values=True) if k not in ("Action", "Version")}
    return json.loads(body)


def _logical_table(state: WireState, params: dict[str, Any]) -> str | None:
    name = params.get("TableName")
    if name is None and isinstance(params.get("RequestItems"), dict) and params["RequestItems"]:
        name = next(iter(params["RequestItems"]))
    if name is None:
        return None
    return state.table_names.get(name, name)


def _on_before_call(model: Any, params: dict[str, Any], request_signer: Any, **_kwargs: Any) -> None:
    state = _state
    _current.call = None
    if state is None:
        return
    started = time.thread_time()
    service = model.service_model.service_name
    credentials = request_signer._credentials  # noqa: SLF001 - botocore exposes no public accessor
    access_key = credentials.get_frozen_credentials().access_key if credentials else ""
    # wire_params builds new objects (a decoded body, a flat dict of strings): the record shares nothing with
    # botocore's request, so no copy is needed.
    decoded = wire_params(service, params)
    call = AwsCall(
        service=service,
        operation=model.name,
        account=state.account_of(access_key),
        region=request_signer._region_name,  # noqa: SLF001
        params=decoded,
        table=_logical_table(state, decoded) if service == "dynamodb" else None,
        thread=threading.current_thread().name,
        invocation=state.invocation,
        access_key=access_key,
    )
    _current.call = call
    if state.recording:
        state.record(call)
        # Recording the call is the simulator's work too (a real service needs no recorder).
        state.charge_simulator(time.thread_time() - started)


def _dispatch(event_name: str, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse:
    state = _state
    if state is None:
        raise UnmockedRequestError(f"no simulated world is active: refusing to send {request.method} {request.url}")
    call: AwsCall | None = getattr(_current, "call", None)
    if call is None:
        raise UnmockedRequestError(f"request outside a recorded API call refused: {request.url}")
    delay = state.latency.seconds(call.service, call.operation, call.region) if state.recording else 0.0
    if delay:
        time.sleep(delay)
    # Thread CPU time leaves out the latency sleep and any wait for moto's lock: what remains is the fakes' own work,
    # which a real AWS service does on its own machines (the benchmark reports it apart).
    started = time.thread_time()
    try:
        answer = _answer(state, call, event_name, request, **kwargs)
    except Exception as error:
        call.attempts.append("SimulatorCrash")
        raise state.crashed(call, error) from error
    finally:
        if state.recording:
            state.charge_simulator(time.thread_time() - started)
    if isinstance(answer, Exception):  # a fault layer's deliberate failure: what the code under test gets
        call.attempts.append(type(answer).__name__)
        raise answer
    outcome = "ok" if answer.status_code < 300 else f"HTTP {answer.status_code}"
    call.attempts.append(MALFORMED if getattr(answer, "harness_malformed", False) else outcome)
    return answer


def _answer(
    state: WireState, call: AwsCall, event_name: str, request: AWSPreparedRequest, **kwargs: Any
) -> AWSResponse | Exception:
    """The answer to one attempt, or the exception a fault injects; anything this raises is a simulator failure."""
    ctx = CallContext(
        call.service, call.operation, call.account, call.region, call.table, call.params, id(call), state.invocation
    )
    fault = state.faults.pick(ctx, request) if state.recording else None
    held: dict[str, list] = {}
    call.held_back = 0
    if fault is not None and fault.effect.kind == "unprocessed":
        request, held = split_unprocessed(request, fault.effect.count)
        call.held_back = sum(len(writes) for writes in held.values())
        if not json.loads(request.body or b"{}").get("RequestItems"):
            return empty_batch_answer(request.url, held)
    elif fault is not None:
        injected = injected_exception(fault, request)
        if injected is not None:
            return injected
        answer = answer_fault(fault, ctx, request)
        answer.harness_malformed = fault.effect.kind == "malformed"  # type: ignore[attr-defined]
        return answer
    if call.service == "drs":
        status, headers, body = state.drs.handle(call.operation, request, call.account)
        return make_response(request.url, status, headers, body)
    if call.service == "ec2" and state.ec2.answers(call.operation, call.account, call.region, call.params):
        return make_response(request.url, *state.ec2.describe_instances(call.account, call.region, call.params))
    request, refusal = state.rules.apply(call, request)
    if refusal is not None:
        return refusal
    with state.moto_lock:
        response = botocore_stubber(event_name, request, **kwargs)
    if response is None:
        raise UnmockedRequestError(f"no fake answers {call.service}:{call.operation} at {request.url}")
    return with_unprocessed(response, held) if held else response


_shared_loaders: dict[Any, Any] = {}


def _shared_loader(search_paths: Any = None) -> Any:
    """One botocore data loader per search path for the whole process.

    Every new botocore session otherwise re-parses the service models (about 0.1 s per service); the models are
    read-only data, so sharing them changes no behaviour and keeps a fresh session per run affordable.
    """
    key = search_paths if isinstance(search_paths, str | None) else tuple(search_paths)
    if key not in _shared_loaders:
        _shared_loaders[key] = _create_loader(search_paths)
    return _shared_loaders[key]


def _timed_client_creation(create: Callable[..., Any]) -> Callable[..., Any]:
    """``ClientCreator.create_client`` charging its thread CPU time to the active world while it records (the
    benchmark reports client creation apart: it is the code under test's own work, a large part of it)."""

    @functools.wraps(create)
    def create_client(*args: Any, **kwargs: Any) -> Any:
        state = _state
        if state is None or not state.recording:
            return create(*args, **kwargs)
        started = time.thread_time()
        try:
            return create(*args, **kwargs)
        finally:
            state.charge_client(time.thread_time() - started)

    create_client.harness_timed = True  # type: ignore[attr-defined]
    return create_client


#: id of a service model's description -> (that description, the API methods botocore generated for it).
_api_methods: dict[int, tuple[Any, dict[str, Any]]] = {}


def _sharing_api_methods(create_methods: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """``ClientCreator._create_methods`` generating a service's API methods once per service model, inside a world.

    botocore builds a method (and its operation models) for each of a service's operations on every client it
    creates: about 17 ms per EC2 client, a seventh of a small world's run. A method only names its operation and
    calls ``self._make_api_call``, so clients of one model can share them: the model is the same object for every
    session (one loader, :func:`_shared_loader`), and each client still gets a class of its own, made by its own
    session's ``creating-client-class`` handlers from a copy of the methods. The benchmark turns this off
    (``World(real_client_costs=True)``): a Lambda pays the full cost.
    """

    @functools.wraps(create_methods)
    def _create_methods(self: Any, service_model: Any) -> dict[str, Any]:
        state = _state
        if state is None or not state.share_api_methods:
            return create_methods(self, service_model)
        description = service_model._service_description  # the loaded model data, one object per loader
        held = _api_methods.get(id(description))
        if held is None or held[0] is not description:
            held = (description, create_methods(self, service_model))
            _api_methods[id(description)] = held
        return dict(held[1])

    _create_methods.harness_shared = True  # type: ignore[attr-defined]
    return _create_methods


def _install() -> None:
    """Put the dispatcher where moto's stubber was in botocore's built-in handlers (idempotent)."""
    if ("before-send", _dispatch) in BUILTIN_HANDLERS:
        return
    if not getattr(botocore.client.ClientCreator.create_client, "harness_timed", False):
        botocore.client.ClientCreator.create_client = _timed_client_creation(  # type: ignore[method-assign]
            botocore.client.ClientCreator.create_client
        )
    if not getattr(botocore.client.ClientCreator._create_methods, "harness_shared", False):
        botocore.client.ClientCreator._create_methods = _sharing_api_methods(  # type: ignore[method-assign]
            botocore.client.ClientCreator._create_methods
        )
    botocore.session.create_loader = _shared_loader  # type: ignore[attr-defined]
    BUILTIN_HANDLERS[:] = [h for h in BUILTIN_HANDLERS if h[1] is not botocore_stubber]
    BUILTIN_HANDLERS.append(("before-call", _on_before_call))
    BUILTIN_HANDLERS.append(("before-send", _dispatch))


def region_of_request(request: AWSPreparedRequest) -> str:
    """The region of a request's endpoint (for diagnostics)."""
    return region_of(request.url)


_install()
