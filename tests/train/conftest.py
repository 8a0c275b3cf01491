"""Training tests run tiny models: one torch thread, since on a shared 2-core machine the tiny
steps run several times faster without thread hand-offs."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
