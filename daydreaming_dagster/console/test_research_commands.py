from .exit_codes import ExitCode
from .research_commands import BAD_INPUT, DONE


def test_the_review_and_compare_exit_codes_are_the_commands_ones():
    assert (DONE, BAD_INPUT) == (ExitCode.DONE, ExitCode.CONFIG)
