"""The organisation: jurisdictions, schools, grades and classes; accounts and their audit rows;
the national code tables."""
