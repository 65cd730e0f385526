DROP TABLE liveness;
