-- The customer's state or province: leads.customer_region is
-- the ISO 3166-2 code ("US-TX", "CA-ON") of the state of the customer's
-- address in the CRM, as lead.ParseSubdivision read it, so that texts wait
-- for the hours allowed where the customer lives. '' when the CRM has no
-- address, when its state could not be read (the lead's contact_problem
-- says why), and on leads stored before it was kept.
ALTER TABLE leads ADD COLUMN customer_region text NOT NULL DEFAULT '';
