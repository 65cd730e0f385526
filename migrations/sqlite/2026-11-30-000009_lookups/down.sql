DROP INDEX alerts_one_enumeration_per_window;
DROP TABLE lookups;
-- The alerts table keeps its wider kind check (rebuilding it back would
-- gain nothing).
