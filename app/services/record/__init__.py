"""The student record and identity: students and families, ID checks, registry numbers, photos,
personal-data access and its log, a record's history, problem records (问题学籍)."""
