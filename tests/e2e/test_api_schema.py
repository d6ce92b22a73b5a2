"""The API answers as /openapi.json documents it: Schemathesis over every operation.

Three passes over the app's own schema:

- the *coverage* cases (Schemathesis' deterministic boundary and wrong-type values for
  every parameter and body field, missing and unexpected fields, undeclared methods);
- *fuzzing*: Hypothesis-generated valid and invalid requests;
- *stateful* sequences that create resources and follow the schema's links to the reads
  and commands on what was created.

Requests carry the key of a role the access table (``test_api_access.ROUTES``) allows for
the operation, mostly of the county that owns the test resources, and half of them name
those real resources instead of random ids. Every response is checked: no 5xx, a
documented status and content type, headers and body matching the documented schema.
Failures are collected over all operations and reported together, each with a request
that reproduces it.
"""

from __future__ import annotations

import itertools
import random
import re
from typing import TYPE_CHECKING, Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.python.asgi import ASGIClient

from disburse.api.app import CREATES
from disburse.domain.meta import Role
from disburse.domain.text import TextKind, text_problem
from tests.e2e.test_api_access import ROUTES, build_world
from tests.factories import COUNTY, credit_code, resident_id

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from schemathesis.schemas import APIOperation, BaseSchema
    from starlette.types import ASGIApp, Message

    from tests.api_support import Api
    from tests.e2e.test_api_access import World

    Operation = APIOperation[Any, Any, Any, Any]
    Case = schemathesis.Case[Operation]

CLERK, FINANCE = Role.CLERK, Role.FINANCE
BASE_URL = "http://testserver"
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
#: Keys mostly of the county that owns the resources; some of its city, or another county.
REGIONS = ("county", "county", "city", "county", "other")
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.unsupported_method,
]
#: Roles allowed per (method, OpenAPI path): the schema writes {name}, not {name:path}.
ALLOWED: dict[tuple[str, str], list[Role]] = {
    (row.method, re.sub(r"{(\w+):\w+}", r"{\1}", row.path)): sorted(row.roles) for row in ROUTES
}
NO_KEY = frozenset({"/healthz", "/readyz", "/metrics"})
#: Body fields that name a resource, and the path parameter naming one of that kind.
BODY_IDS = {
    "person_id": "person_id",
    "applicant_id": "organisation_id",
    "site_id": "site_id",
    "fund_id": "fund_id",
}
#: Body fields with a checked format, and a valid value for each (so commands get through).
VALID: dict[str, Callable[[], str]] = {
    "resident_id": resident_id,
    "credit_code": credit_code,
    "home_region": lambda: COUNTY,
    "region_code": lambda: COUNTY,
    "month": lambda: "2024-02",
    "household_id": lambda: "H-FUZZ",
    "bank_account": lambda: "6222020212345670",
}
FUZZING = hypothesis.settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
)


class Answered:
    """The app, minus the re-raise of an error it has already answered with a 500.

    Starlette sends the 500 and then raises the error again for the server to log; the
    Schemathesis client would pass that error up instead of the response. Like the
    fixture's ``TestClient(raise_server_exceptions=False)``, keep the response.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if not started:
                raise


class Probe:
    """Sends cases to the app with a suitable key and collects what breaks the schema."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.world: World = build_world(api)
        response = api.client.get("/openapi.json")
        assert response.status_code == 200
        self.schema: BaseSchema = schemathesis.openapi.from_dict(response.json())
        # Not entered: requests go straight to the app, whose lifespan the fixture runs.
        self.session = ASGIClient(Answered(api.client.app))
        self.problems: dict[str, str] = {}
        self.views_stopped = False

    def operations(self) -> Iterator[Operation]:
        for result in self.schema.get_all_operations():
            assert isinstance(result, Ok), result
            yield result.ok()

    def roles(self, operation: Operation) -> list[Role]:
        if operation.path in NO_KEY:
            return []
        key = (operation.method.upper(), operation.path)
        assert key in ALLOWED, f"{key} is documented but not in the access table"
        return ALLOWED[key]

    def send(self, case: Case, turn: int) -> None:
        """Send one case as the turn's role and region, naming real resources on odd turns."""
        roles = self.roles(case.operation)
        headers = {}
        if roles:
            headers = self.api.headers(roles[turn % len(roles)], REGIONS[turn % len(REGIONS)])
            if turn % 3:
                headers["X-Actor-Id"] = "fuzzer"
        if turn % 2:
            params = self.world.params
            for name in case.path_parameters or {}:
                if name in params:
                    case.path_parameters[name] = params[name]
            if isinstance(case.body, dict):
                _realistic(case.body, params)
        response = case.call(base_url=BASE_URL, session=self.session, headers=headers)
        if case.method != "GET" and response.status_code < 300:
            self.check_views(case, headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    def check_views(self, case: Case, headers: dict[str, str]) -> None:
        """The views still follow the log after a command was accepted.

        An event the views cannot apply stops every view for good: the first request
        that wrote one is reported (the views stay stopped, so only the first).
        """
        if self.views_stopped:
            return
        try:
            self.api.catch_up()
        except Exception as error:  # noqa: BLE001 - any failure to project is the finding
            self.views_stopped = True
            self.problems[f"{case.operation.label} :: views stopped"] = (
                f"accepted ({case.method}), but the views cannot apply what it wrote: "
                f"{type(error).__name__}: {error}\n"
                f"Reproduce with:\n    {case.as_curl_command(headers, base_url=BASE_URL)}"
            )

    def record(self, label: str, error: BaseException) -> None:
        notes = "\n".join(getattr(error, "__notes__", []))
        text = f"{type(error).__name__}: {error}\n{notes}".strip()
        key = f"{label} :: {_titles(error)}"
        self.problems.setdefault(key, text)

    def report(self) -> str:
        return "\n\n".join(f"== {key}\n{text}" for key, text in sorted(self.problems.items()))


def _realistic(body: dict[str, Any], params: dict[str, str]) -> None:
    """Put the county's resources and valid natural keys into a generated body."""
    for name, param in BODY_IDS.items():
        if name in body:
            body[name] = params[param]
    for name, value in VALID.items():
        if name in body:
            body[name] = value()
    if isinstance(body.get("fact"), dict):
        _realistic(body["fact"], params)


def _plausible(value: Any) -> Any:
    """A generated body with text the ledger stores and years it budgets."""
    if isinstance(value, dict):
        return {k: 2024 if k == "year" else _plausible(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plausible(v) for v in value]
    if isinstance(value, str) and text_problem(value, TextKind.REASON) is not None:
        return "测试"
    return value


def _titles(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return ", ".join(sorted({_titles(e) for e in error.exceptions}))
    title = getattr(error, "title", None)
    return str(title) if title else type(error).__name__


def test_coverage_cases_get_documented_answers(api: Api) -> None:
    """Schemathesis' coverage phase: boundaries, wrong types, missing fields, other methods."""
    probe = Probe(api)
    sent = 0
    for operation in probe.operations():
        config = probe.schema.config.generation_for(operation=operation, phase="coverage")
        cases = probe.schema.iter_coverage_cases(
            operation, generation_modes=MODES, generation_config=config
        )
        for turn, case in enumerate(cases):
            sent += 1
            try:
                probe.send(case, turn)
            except (AssertionError, BaseExceptionGroup) as error:
                probe.record(operation.label, error)
    assert sent > 1000
    assert probe.problems == {}, f"{len(probe.problems)} problem(s):\n{probe.report()}"


def _fuzz(probe: Probe, operation: Operation) -> Callable[[], None]:
    strategy = st.one_of([operation.as_strategy(mode) for mode in MODES])
    turns = itertools.count()

    @FUZZING
    @hypothesis.given(case=strategy)
    def fuzz(case: Case) -> None:
        probe.send(case, next(turns))

    return fuzz


def test_generated_requests_get_documented_answers(api: Api) -> None:
    """Hypothesis-generated valid and invalid requests to every operation."""
    probe = Probe(api)
    for operation in probe.operations():
        try:
            _fuzz(probe, operation)()
        except (AssertionError, BaseExceptionGroup) as error:
            probe.record(operation.label, error)
    assert probe.problems == {}, f"{len(probe.problems)} problem(s):\n{probe.report()}"


def test_the_schema_documents_every_route_and_its_security(api: Api) -> None:
    raw: dict[str, Any] = api.client.get("/openapi.json").json()
    documented = {
        (method.upper(), path) for path, methods in raw["paths"].items() for method in methods
    }
    assert set(ALLOWED) <= documented
    assert {(m, p) for m, p in documented if p.startswith("/v1/")} == set(ALLOWED)
    for path, methods in raw["paths"].items():
        for method, operation in methods.items():
            where = f"{method.upper()} {path}"
            if not path.startswith("/v1/"):
                assert "security" not in operation, where
                continue
            assert operation["security"] == [{"bearer": []}], where
            for code in ("400", "401", "403", "422"):
                content = operation["responses"][code]["content"]
                assert list(content) == ["application/problem+json"], f"{where} {code}"


def test_a_log_position_past_64_bits_is_refused_not_a_server_error(api: Api) -> None:
    """Found by fuzzing: ``after`` has no maximum, and SQLite cannot bind it (500)."""
    world = build_world(api)
    after = f"?after={2**63}"
    person = world.params["person_id"]
    calls: list[tuple[str, Role]] = [
        (f"/v1/events{after}", ALLOWED["GET", "/v1/events"][0]),
        (f"/v1/audit/trail/{person}{after}", ALLOWED["GET", "/v1/audit/trail/{entity_id}"][0]),
        (f"/v1/audit/actors/clerk-1{after}", ALLOWED["GET", "/v1/audit/actors/{actor_id}"][0]),
    ]
    for url, role in calls:
        response = api.get(url, role)
        assert response.status_code < 500, f"GET {url}: {response.status_code} {response.text}"
        if response.status_code != 200:
            assert response.status_code == 422, f"GET {url}: {response.text}"
            assert response.json()["field"] == "query.after"


#: Commands whose integer field has no upper bound in the schema, and where it goes.
HUGE = 2**63  # one past the largest 64-bit integer a view column holds
UNBOUNDED: dict[str, tuple[str, Role, Callable[[World], dict[str, Any]]]] = {
    "body.amount_fen (new fund)": (
        "/v1/funds",
        FINANCE,
        lambda _: {"source": "east_west", "region_code": COUNTY, "year": 2024, "amount_fen": HUGE},
    ),
    "body.amount_fen (top-up)": (
        "/v1/funds/{fund_id}/top-ups",
        FINANCE,
        lambda _: {"amount_fen": HUGE, "reason": "supplementary budget"},
    ),
    "body.stipend_fen": (
        "/v1/posts",
        CLERK,
        lambda w: {
            "site_id": w.params["site_id"],
            "title": "护林员",
            "stipend_fen": HUGE,
            "fund_id": w.params["fund_id"],
            "part_time": False,
        },
    ),
    "body.fact.amount_fen (income)": (
        "/v1/people/{person_id}/facts",
        CLERK,
        lambda _: {
            "fact": {"kind": "income", "month": "2024-02", "amount_fen": HUGE, "source": "wages"}
        },
    ),
}


def test_an_amount_past_64_bits_is_refused_before_it_stops_the_views(api: Api) -> None:
    """Found by probing unbounded integers: a 64-bit view column cannot hold the amount.

    Such an amount was accepted and logged; no view could apply it, nor anything after it.
    """
    world = build_world(api)
    accepted = []
    for name, (path, role, body) in UNBOUNDED.items():
        url = path.format(**world.params)
        response = api.post(url, role, body(world))
        assert response.status_code < 500, f"{name}: {response.text}"
        if response.status_code < 300:
            accepted.append(f"{name}: POST {url} -> {response.status_code}")
        else:
            assert response.status_code == 422, f"{name}: {response.text}"
    stopped = None
    try:
        api.catch_up()  # the views still follow the log
    except Exception as error:  # noqa: BLE001 - reported with what was accepted
        stopped = f"{type(error).__name__}: {error}"
    assert (accepted, stopped) == ([], None), "amounts past 64 bits were logged"


def test_each_create_operation_links_to_every_operation_on_what_it_created(api: Api) -> None:
    """OpenAPI links: the id in a 201 body fills the path of the reads and commands on it."""
    raw: dict[str, Any] = api.client.get("/openapi.json").json()
    operation_ids = {
        operation["operationId"]
        for methods in raw["paths"].values()
        for operation in methods.values()
    }
    assert len(operation_ids) == sum(len(m) for m in raw["paths"].values()), "ids are unique"
    for created_at, parameter in CREATES.items():
        links = raw["paths"][created_at]["post"]["responses"]["201"]["links"]
        expected = {
            operation["operationId"]
            for path, methods in raw["paths"].items()
            if set(re.findall(r"{(\w+)}", path)) == {parameter}
            for operation in methods.values()
        }
        assert set(links) == expected, created_at
        assert expected, f"nothing acts on what {created_at} creates"
        for link in links.values():
            assert link["operationId"] in operation_ids
            assert link["parameters"] == {parameter: "$response.body#/id"}


#: Commands whose first success changes what every later one answers for the whole store
#: (a notice lists every payout of a period; a run opens every grant of a year; a bank
#: file's download is recorded on the batch, and its return file settles it): in one
#: walk over a shared store the same draws would meet other answers, which Hypothesis
#: rightly calls flaky. Their own e2e tests cover them; the stateless phases above too.
WALK_EXCLUDES = r"^/v1/(notices|runs/)|/(notices|file|results-file)$"

STATEFUL = hypothesis.settings(
    FUZZING, max_examples=120, stateful_step_count=6, phases=[hypothesis.Phase.generate]
)


def test_stateful_sequences_follow_the_links_and_get_documented_answers(api: Api) -> None:
    """Schemathesis' stateful phase: create, then act on what was created, through links."""
    # Schemathesis also draws from the global ``random``: seeded, the run does not depend
    # on what the tests before it drew. (The order routes were imported in still shapes
    # the walk, hence enough examples to get through creations whatever the order.)
    random.seed(20261203)
    probe = Probe(api)
    # valid requests only, with our keys: the point is to get through creation to what follows
    probe.schema.config.generation.update(
        modes=[GenerationMode.POSITIVE], with_security_parameters=False
    )
    followed: set[str] = set()
    turns = itertools.count()

    walked = probe.schema.exclude(path_regex=WALK_EXCLUDES)

    class Sequences(walked.as_state_machine()):  # type: ignore[misc]
        def step(self, input: Any) -> Any:  # noqa: A002 - Schemathesis' signature
            if input.transition is not None and input.is_applied:
                followed.add(input.transition.id)
            return super().step(input)

        def before_call(self, case: Case) -> None:
            # plausible requests, so that creations go through and their links are followed
            for header in ("X-Actor-Id", "If-Match", "X-Min-Position"):
                if case.headers is not None and header in case.headers:
                    del case.headers[header]
            if isinstance(case.body, dict):
                body: dict[str, Any] = _plausible(case.body)
                _realistic(body, probe.world.params)
                case.body = body

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            roles = probe.roles(case.operation)
            turn = next(turns)
            headers = probe.api.headers(roles[turn % len(roles)], "county") if roles else {}
            return {"base_url": BASE_URL, "session": probe.session, "headers": headers}

        def validate_response(self, response: Any, case: Case, **kwargs: Any) -> None:
            kwargs.pop("additional_checks", None)
            case.validate_response(response, checks=CHECKS, headers=kwargs["headers"])

    try:
        Sequences.run(settings=STATEFUL)
    except (AssertionError, BaseExceptionGroup) as error:
        probe.record("stateful", error)

    assert probe.problems == {}, f"{len(probe.problems)} problem(s):\n{probe.report()}"
    from_creations = {link for link in followed if "-> [201]" in link}
    assert len(from_creations) >= 2, f"links followed: {sorted(followed)}"
    assert len(followed) >= 5, f"links followed: {sorted(followed)}"
