"""In chromium: a name typed with markup is drawn by plotly as typed, not as a link or bold text."""

from __future__ import annotations

import pandas as pd
import pytest

from fokus import charts

NAME = '<a href="https://phish.example">Hold A</a> & <b>B</b>'


@pytest.mark.xdist_group("idle")  # one static page, no server: it can run beside the test that waits
def test_a_group_named_with_markup_reads_as_typed_in_the_drawn_chart(page) -> None:  # type: ignore[no-untyped-def]
    # plotly.js as the plotly package ships it, drawing the app's own figure; the app's page draws it likewise
    frame = pd.DataFrame({"name": [NAME, "Stress"], "members": [6, 7], "capacity": [8, 6]})
    figure = charts.group_occupancy(frame, "i dag")
    page.set_content(figure.to_html(include_plotlyjs=True, full_html=True))
    page.locator(".js-plotly-plot .ytick").first.wait_for()
    labels = page.locator(".ytick text").all_text_contents()
    assert NAME in labels and "Stress" in labels
    assert page.locator(".js-plotly-plot .main-svg a").count() == 0, "a name became a link"
    assert page.locator(".ytick tspan[style*='bold']").count() == 0, "a name became bold"
