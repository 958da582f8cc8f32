"""Tests of vamp_tf.progress: periodic log lines with the time left; the terminal bar; the stop request."""

import logging

import pytest

from vamp_tf import progress


def test_logs_a_line_with_the_time_left_every_period_when_not_on_a_terminal(monkeypatch, caplog):
    clock = {"now": 1000.0}
    monkeypatch.setattr(progress.time, "time", lambda: clock["now"])
    bar = progress.Progress(100, "test log-likelihood", terminal=False, log_every=10.0)
    with caplog.at_level(logging.INFO, logger="vamp_tf"):
        for done in range(1, 101):
            clock["now"] += 0.5  # 0.5 s per unit: 50 s in all
            bar.update(done)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4, lines  # at 10, 20, 30, 40 s
    assert lines[0] == "test log-likelihood: 20/100 (20%), 40s left"


def test_draws_a_bar_on_a_terminal(capsys):
    bar = progress.Progress(20, "epoch 3", terminal=True, redraw=10)
    for done in range(1, 21):
        bar.update(done, "-ELBO 100.00")
    err = capsys.readouterr().err
    assert err.count("\r") == 2 and "epoch 3 [" in err and "20/20 -ELBO 100.00" in err and err.endswith("\n")


def test_a_stop_request_entered_inside_another_shares_its_signal(monkeypatch):
    import os
    import signal
    before = signal.getsignal(signal.SIGTERM)
    with progress.StopRequest() as outer:
        with progress.StopRequest() as inner:  # the test scoring inside a run
            pass
        os.kill(os.getpid(), signal.SIGTERM)  # after the inner one ended: still seen by the run's request
        assert outer.requested == "SIGTERM" and inner.requested == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is before  # the handler that was there is put back


def test_check_raises_the_callers_error_naming_the_signal_only_once_one_arrived():
    import os
    import signal

    class Stopped(RuntimeError):
        pass
    with progress.StopRequest() as stop:
        stop.check(Stopped, "stopped after epoch 3")  # nothing requested: nothing raised
        os.kill(os.getpid(), signal.SIGTERM)
        with pytest.raises(Stopped) as error:
            stop.check(Stopped, "stopped after epoch 3; rerun to continue")
    assert str(error.value) == "SIGTERM: stopped after epoch 3; rerun to continue"
