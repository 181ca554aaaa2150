from .llm_client import LLMClientResource


def test_a_model_without_a_limit_of_its_own_may_use_the_whole_endpoint():
    llm = LLMClientResource(max_concurrent_per_endpoint=64)
    assert llm.max_concurrent_per_model is None
    assert llm.model_limit(None) == 64
    assert llm.model_limit(8) == 8
    assert llm.model_limit(100) == 64
