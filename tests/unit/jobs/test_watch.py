"""Watch's decisions, as the pure functions of what was polled that they are."""

from __future__ import annotations

import signal

from sageyard.executors import HostExit
from sageyard.jobs.watch import Outcome, Stopping, decide, outcome

RUNNING = None
START = Stopping(deadline=100.0, grace=5.0)


def test_nothing_happens_while_every_host_runs_in_time() -> None:
    assert decide(START, 10.0, [RUNNING, RUNNING], stop_requested=False) == (START, None)


def test_max_runtime_sends_sigterm_then_sigkill_after_the_grace() -> None:
    state, signum = decide(START, 100.0, [RUNNING], stop_requested=True)
    assert (state.reason, state.kill_at, signum) == ("MaxRuntimeExceeded", 105.0, signal.SIGTERM)
    assert decide(state, 104.0, [RUNNING], stop_requested=False) == (state, None)
    state, signum = decide(state, 105.0, [RUNNING], stop_requested=False)
    assert (state.kill_at, signum) == (None, signal.SIGKILL)
    assert decide(state, 200.0, [RUNNING], stop_requested=False) == (state, None)  # once


def test_a_stop_request_stops_the_hosts() -> None:
    state, signum = decide(START, 10.0, [RUNNING], stop_requested=True)
    assert (state.reason, signum) == ("Stopped", signal.SIGTERM)
    assert outcome(state, ["algo-1"], [HostExit(-15)]) == Outcome("Stopped", "Stopped")


def test_a_failed_host_ends_the_others_and_is_the_one_blamed() -> None:
    state, signum = decide(START, 10.0, [RUNNING, HostExit(2, "bad")], stop_requested=False)
    assert (state.reason, state.culprit, signum) == ("HostFailed", 1, signal.SIGTERM)
    ended = [HostExit(-signal.SIGTERM), HostExit(2, "bad")]  # algo-1 ended by our SIGTERM
    assert outcome(state, ["algo-1", "algo-2"], ended) == Outcome("Failed", "Failed", "bad")


def test_a_rank_that_lost_its_peer_is_not_blamed_for_the_peers_failure() -> None:
    # algo-1's rank ended first, but only because algo-2's rank crashed under its collective
    echo = HostExit(1, "AlgorithmError: rank 1 ...: Connection closed by peer [127.0.0.1]:1164")
    cause = HostExit(1, "AlgorithmError: rank 3 exited with code 1: ValueError: no")
    state, _ = decide(START, 10.0, [echo, RUNNING], stop_requested=False)
    assert state.culprit == 0
    assert outcome(state, ["algo-1", "algo-2"], [echo, cause]).failure_reason == cause.failure_text
    # with no other failure to blame, the echo is the reason
    lone = outcome(state, ["algo-1", "algo-2"], [echo, HostExit(-signal.SIGTERM)])
    assert lone.failure_reason == echo.failure_text


def test_when_every_host_has_ended_there_is_nothing_to_decide() -> None:
    ended = [HostExit(0), HostExit(0)]
    assert decide(START, 500.0, ended, stop_requested=True) == (START, None)
    assert outcome(START, ["algo-1", "algo-2"], ended) == Outcome("Completed", "Completed")


def test_a_signal_sageyard_did_not_send_is_a_retryable_internal_error() -> None:
    result = outcome(START, ["algo-1"], [HostExit(-signal.SIGKILL)])
    assert (result.status, result.retryable) == ("Failed", True)
    assert result.failure_reason is not None
    assert "killed by signal 9 (SIGKILL) that sageyard did not send" in result.failure_reason


def test_a_host_that_explained_its_signal_death_is_the_scripts_failure() -> None:
    result = outcome(START, ["algo-1"], [HostExit(-signal.SIGABRT, "MemoryError: out of memory")])
    assert result == Outcome("Failed", "Failed", "MemoryError: out of memory")


def test_max_runtime_wins_over_the_exit_codes_it_caused() -> None:
    state, _ = decide(START, 100.0, [RUNNING], stop_requested=False)
    result = outcome(state, ["algo-1"], [HostExit(-signal.SIGTERM)])
    assert result == Outcome("Stopped", "MaxRuntimeExceeded")
