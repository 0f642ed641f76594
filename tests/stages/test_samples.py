import pytest

from curate.core.config import SampleOptions
from curate.schemas import ImageData, PageRecord
from curate.schemas.reasons import SampleDropReason
from curate.stages.samples import assemble_sample, plan_windows, window_key


@pytest.mark.parametrize("max_images", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("page_count", range(0, 30))
def test_windows_cover_every_page_once_in_order_and_balanced(page_count, max_images):
    windows = plan_windows(page_count, SampleOptions(min_images=1, max_images=max_images))
    covered = [i for start, end in windows for i in range(start, end)]
    assert covered == list(range(page_count))
    sizes = [end - start for start, end in windows]
    assert all(1 <= s <= max_images for s in sizes)
    if sizes:
        assert max(sizes) - min(sizes) <= 1


def _page(index: int, count: int, doc: str = "doc") -> PageRecord:
    return PageRecord(
        page_id=f"{doc}-{index:05d}",
        doc_id=doc,
        source_uri=f"/{doc}.pdf",
        source_sha256="0" * 64,
        source_type="pdf",
        page_index=index,
        page_count=count,
        render_dpi=144,
        width=10,
        height=20,
        image=ImageData(bytes([index]), f"{doc}-{index:05d}.png"),
    )


def test_pages_of_a_window_share_a_key_and_documents_never_mix():
    options = SampleOptions(min_images=2, max_images=4)
    keys = [window_key(_page(i, 9), options) for i in range(9)]
    assert keys[0:3] == [keys[0]] * 3 and keys[3:6] == [keys[3]] * 3 and len(set(keys)) == 3
    assert window_key(_page(0, 9, "other"), options) != keys[0]


def test_assemble_orders_pages_and_drops_too_small_windows():
    options = SampleOptions(min_images=2, max_images=4)
    sample = assemble_sample([_page(2, 3), _page(0, 3), _page(1, 3)], options)
    assert sample.page_indices == [0, 1, 2]
    assert [image.bytes for image in sample.images] == [bytes([0]), bytes([1]), bytes([2])]
    assert sample.image_sizes == [(10, 20)] * 3
    assert sample.drop_reason is None
    lonely = assemble_sample([_page(0, 1)], options)
    assert (
        lonely.drop_reason == SampleDropReason.TOO_FEW_IMAGES
        and "min_images=2" in lonely.drop_detail
    )
    assert assemble_sample([_page(0, 1)], options).sample_id == lonely.sample_id


def test_min_above_max_is_rejected():
    with pytest.raises(ValueError, match="must not exceed"):
        SampleOptions(min_images=5, max_images=2)
