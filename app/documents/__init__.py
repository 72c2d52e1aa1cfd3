"""Documents: the workbooks and PDFs people hand in and take away, read and written from plain values.

It knows no database, no Flask and no service: services gather lists, tuples and dataclasses of
strings, dates and numbers and pass them here.  Readers: ``archive`` (the upload's zip, bounded),
``reader`` (the template's sheet, chunk by chunk), ``columns`` (the template's columns by header),
``normalize`` (a cell read as a person meant it).  Writers: ``template`` (the blank template),
``export`` (students in the template, streamed), ``confirmation`` (确认表, .xlsx and PDF, the
sheet streamed as SpreadsheetML by ``printsheet``), ``annotated`` (an upload with its problems
marked), on ``safe`` cells that never run as formulas.
Reports will add their writers here.
"""
