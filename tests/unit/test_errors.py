"""Notes join an error's message with one period, never two (no "..", ".;", ". (")."""

from __future__ import annotations

from connector.errors import APIError, TransportError


def test_a_new_sentence_after_a_period_keeps_one_period() -> None:
    error = APIError("Mixpanel failed to answer (HTTP 500) for x: boom.")
    error.add_note_to_message(". Not retried: it may have reached the server.")
    assert str(error) == (
        "Mixpanel failed to answer (HTTP 500) for x: boom. Not retried: it may have reached "
        "the server."
    )


def test_a_parenthesis_goes_before_the_final_period() -> None:
    error = APIError("The API rejected the request (HTTP 400) for x: bad.")
    error.add_note_to_message(" (gave up after 3 attempts: status 400)")
    assert str(error) == (
        "The API rejected the request (HTTP 400) for x: bad (gave up after 3 attempts: status 400)."
    )


def test_a_message_without_a_period_is_appended_as_it_is() -> None:
    error = TransportError("x: could not reach h:1: connection refused", kind="connect")
    error.add_note_to_message(" (gave up after 5 attempts: connect error)")
    assert (
        str(error)
        == "x: could not reach h:1: connection refused (gave up after 5 attempts: connect error)"
    )
