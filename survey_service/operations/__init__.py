"""Operating a Runxin installation: work the server operator does from the command line
(``runxin backup``, ``runxin restore``), kept apart from the service's request paths."""
