"""Message Markdown renders to HTML that cannot run a script or leak readers to other sites."""

from __future__ import annotations

import pytest

from thereyet.server.markdown import render_markdown


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<a href='javascript:alert(1)'>x</a>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "![x](javascript:alert(1))",
        "<javascript:alert(1)>",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_html_and_script_links_come_out_as_text(text):
    html = render_markdown(text)
    assert "<script" not in html and "<img src=x" not in html and "<a href='" not in html
    assert 'href="javascript' not in html.lower() and 'href="vbscript' not in html.lower()
    assert 'src="javascript' not in html.lower() and 'href="data:' not in html


def test_markdown_formats_and_keeps_line_breaks():
    html = render_markdown("**bold** and `code`\nnext line\n\n- item")
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert "<br />" in html and "<li>item</li>" in html


def test_links_do_not_pass_on_the_opener_or_the_referrer():
    html = render_markdown("[docs](https://example.org/runbook)")
    assert html == (
        '<p><a href="https://example.org/runbook" rel="nofollow noopener noreferrer">docs</a></p>\n'
    )


def test_images_from_other_sites_become_links_but_local_and_data_images_show():
    outside = render_markdown("![chart](https://tracker.example/pixel.png)")
    assert "<img" not in outside and 'href="https://tracker.example/pixel.png"' in outside
    assert "<img" not in render_markdown("![x](//tracker.example/pixel.png)")
    assert '<img src="/api/v1/attachments/abc"' in render_markdown("![x](/api/v1/attachments/abc)")
    assert '<img src="data:image/png;base64,AAAA"' in render_markdown(
        "![x](data:image/png;base64,AAAA)"
    )
