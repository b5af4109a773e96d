"""``dataprep tui``: the textual inspector (entry point :func:`dataprep.tui.app.run`).

line_index (mmap + numpy line starts) · model (what the app knows about the file) · loader and
analysis (scan, tokens, duplicates, the gate's assessment, off the UI) · search (filters, regex)
· one module per tab: overview, examples_view + conversation_view, findings_view, duplicates_view
· screens (prompts, help, rule docs) · styles.tcss.
"""
