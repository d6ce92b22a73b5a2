"""GroupCommit itself: every caller gets an answer, even when its leader is interrupted."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

from disburse.persistence.batching import GroupCommit, Outcome, Request


def _queued(groups: GroupCommit, count: int) -> tuple[list[threading.Thread], list[Any]]:
    answers: list[Any] = []

    def call() -> None:
        try:
            answers.append(groups.run(Request(lambda _: None, contextvars.copy_context())))
        except BaseException as error:  # noqa: BLE001 - the leader's own interruption
            answers.append(error)

    threads = [threading.Thread(target=call) for _ in range(count)]
    with groups.held():
        for thread in threads:
            thread.start()
        for _ in range(2000):
            if groups.waiting == count:
                break
            threading.Event().wait(0.005)
        assert groups.waiting == count
    for thread in threads:
        thread.join(timeout=10)
    return threads, answers


def test_an_interrupted_leader_leaves_no_caller_without_an_answer() -> None:
    def interrupted(_group: list[Request[Any]]) -> None:
        raise SystemExit(1)

    _, answers = _queued(GroupCommit(interrupted), 3)

    assert len(answers) == 3
    [leader] = [a for a in answers if isinstance(a, SystemExit)]
    assert leader.code == 1
    followers = [a for a in answers if isinstance(a, Outcome)]
    assert len(followers) == 2
    assert all(isinstance(o.error, RuntimeError) and o.result is None for o in followers)


def test_a_failed_commit_is_every_callers_error() -> None:
    def failed(_group: list[Request[Any]]) -> None:
        raise OSError("disk full")

    _, answers = _queued(GroupCommit(failed), 2)

    assert [type(a.error) for a in answers] == [OSError, OSError]


def test_each_caller_gets_its_own_outcome() -> None:
    def commit(group: list[Request[Any]]) -> None:
        for index, request in enumerate(group):
            request.outcome, request.done = Outcome(result=index, position=7), True

    groups = GroupCommit(commit)
    _, answers = _queued(groups, 4)

    assert sorted(a.result for a in answers) == [0, 1, 2, 3]
    assert (groups.groups, groups.requests) == (1, 4)


def test_a_lone_request_leads_at_once() -> None:
    def commit(group: list[Request[Any]]) -> None:
        for request in group:
            request.done = True

    groups = GroupCommit(commit)
    outcome = groups.run(Request(lambda _: None, contextvars.copy_context()))
    assert outcome.error is None
    assert (groups.groups, groups.requests, groups.waiting) == (1, 1, 0)
