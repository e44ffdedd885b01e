"""Reading and writing: the shipped data files and the database. Imports only the domain."""
