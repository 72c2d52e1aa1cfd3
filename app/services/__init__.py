"""Use cases, grouped by domain: one function each, owning its transaction (``common.transaction``);
they validate, ask the policy, then write.

common/        who acts (Actor), the transaction rule, working days
record/        the student record and identity: students, families, ID checks, registry numbers,
               photos, personal-data access, history, problem records
requests/      registry business (办件): the request workflow and its kinds, parties, transfers,
               evidence
exchange/      Excel in and out: imports, exports, confirmation forms, annotated reports
organisation/  hierarchy, accounts and their audit, code tables
policy/        the rules in force: versions, activation, decisions for a node
schoolyear/    the school year: graduation, promotion, enrollment, verification campaigns
reports/       monthly reports and statistics
operations/    running the system: keys, the demo seed
"""
