"""The browser harness itself: JupyterLab opens a notebook and runs cells from the toolbar."""

import pytest
from labdriver import Notebook
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_notebook_00_runs_from_the_toolbar(page, lab):
    notebook = Notebook(page, lab, "00-start-here.ipynb").open()
    sources = notebook.code_sources()
    model_cell = next(i for i, source in enumerate(sources) if "get_chat_model()" in source)
    store_cell = next(i for i, source in enumerate(sources) if "InventoryStore()" in source)

    notebook.run_code_cells(range(store_cell + 1))

    expect(notebook.code_cell(model_cell).locator(".jp-Cell-outputArea")).to_contain_text("OfflineChatModel")
    expect(notebook.code_cell(store_cell).locator(".jp-Cell-outputArea")).to_contain_text("widget-x")
    assert notebook.runs == store_cell + 1
