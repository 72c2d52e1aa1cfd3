"""Data-quality verification (数据质量核查): campaigns, the forms' marks and scans, the progress."""
