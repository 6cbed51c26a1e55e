-- Audit entries about staff-only documentation are hidden from the customer's access log, as the items
-- themselves are.
ALTER TABLE audit ADD COLUMN staff_only INTEGER NOT NULL DEFAULT 0;
