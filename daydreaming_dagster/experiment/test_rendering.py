import pytest

from daydreaming_dagster.experiment.rendering import PromptRenderError, render_prompt


def test_renders_loop_over_concepts():
    text = "{% for c in concepts %}- {{ c.name }}: {{ c.description }}\n{% endfor %}"
    concepts = [{"name": "A", "description": "aa"}, {"name": "B", "description": "bb"}]
    assert render_prompt(text, "t", {"concepts": concepts}) == "- A: aa\n- B: bb\n"


def test_misspelled_variable_is_an_error_not_an_empty_prompt():
    with pytest.raises(PromptRenderError, match="'t1'.*concepts"):
        render_prompt("Answer: {{ respnse }}", "t1", {"concepts": []})


def test_misspelled_attribute_is_an_error():
    with pytest.raises(PromptRenderError):
        render_prompt("{{ concepts[0].descripton }}", "t", {"concepts": [{"description": "x"}]})


def test_syntax_error_names_template():
    with pytest.raises(PromptRenderError, match="broken"):
        render_prompt("{% for x in %}", "broken", {})


def test_blank_result_is_an_error():
    with pytest.raises(PromptRenderError, match="empty"):
        render_prompt("{{ x }}", "t", {"x": "   "})
