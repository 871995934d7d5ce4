"""The course's tooling, apart from the model code (which never imports it).

    check.py        reference checks for the lesson notebooks (values made by lessons/reference/)
    show.py         printing the library's code in a lesson, before the lesson uses it
    exercises.py    a lesson's exercise stubs, their checks, and filling them with the solutions
    assignments.py  the assignments and the markers around their solutions
    edition.py      the student edition (solutions removed) and its check
    rules.py        what a solution block may use (the allow-list)
    graded_tree.py  the folder a graded process runs in: the edition, the student's blocks, one probe
    probe.py        runs in that process: the student's code on the seed's inputs, outputs as tensors
    judge.py        runs in the grader's process: the expected values, the checks and their points
    grader.py       grading a student's copy: a graded process per assignment, judged here

They work on a checkout of the course, which they are given: a path argument,
the current folder, or an environment variable (MINISBERT_REFERENCE).
"""
