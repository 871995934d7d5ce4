"""The course's tooling, apart from the model code (which never imports it).

    check.py        reference checks for the lesson notebooks (values made by lessons/reference/)
    assignments.py  the student edition and the autograder of the assignments

They work on a checkout of the course, which they are given: a path argument,
the current folder, or an environment variable (MINISBERT_REFERENCE).
"""
