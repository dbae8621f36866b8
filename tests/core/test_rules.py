"""The one rules loader: every mistake in a rule file is one line naming the file and the key."""

import pytest

from salesperf.core.errors import UserError
from salesperf.core.rules import RuleChecker, read_rules


def test_the_packaged_default_is_read_by_package_and_name():
    data, source = read_rules("salesperf.analyses.lifecycle", "rules.yml")
    assert source == "lifecycle/rules.yml" and isinstance(data, dict) and data


@pytest.mark.parametrize(
    "text,message",
    [
        ("a: 1\na: 2\n", "key 'a' is defined twice"),
        ("a: [1, 2\n", "not valid YAML"),
        ("- 1\n- 2\n", "expected a mapping of rules at the top level, got list"),
    ],
)
def test_bad_files_are_named_in_one_line(tmp_path, text, message):
    path = tmp_path / "my_rules.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=message) as err:
        read_rules("salesperf.analyses.lifecycle", "rules.yml", path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="rules file not found"):
        read_rules("salesperf.analyses.lifecycle", "rules.yml", tmp_path / "nope.yml")


def test_checks_name_the_file_and_the_key():
    check = RuleChecker("segments.yml")
    assert check.integer({"bins": 5}, "bins", "scores.bins", 2, 10) == 5
    with pytest.raises(UserError, match=r"^segments.yml: scores.bins: expected an integer in \[2, 10\], got 11$"):
        check.integer({"bins": 11}, "bins", "scores.bins", 2, 10)
    with pytest.raises(UserError, match="expected an integer"):
        check.integer({"bins": True}, "bins", "scores.bins", 0, 10)  # a bool is not a number here
    with pytest.raises(UserError, match="thresholds.days: expected a positive number, got 0"):
        check.positive({"days": 0}, "days", "thresholds.days")
    with pytest.raises(UserError, match="unknown key 'colour'"):
        check.known_keys({"colour": 1}, ("color",))
