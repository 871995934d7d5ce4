"""The course's tooling, apart from the model code (which never imports it).

    check.py        reference checks for the lesson notebooks (values made by lessons/reference/)
    show.py         printing the library's code in a lesson, before the lesson uses it
    exercises.py    a lesson's exercise stubs, their checks, and filling them with the solutions
    assignments.py  the assignments and the markers around their solutions
    edition.py      the student edition (solutions removed) and its check
    rules.py        what a solution block may not call or do
    grader.py       grading a student's blocks with the instructor's tests

They work on a checkout of the course, which they are given: a path argument,
the current folder, or an environment variable (MINISBERT_REFERENCE).
"""
