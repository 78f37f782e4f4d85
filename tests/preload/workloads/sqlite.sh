# SPDX-License-Identifier: GPL-2.0-or-later
# collects: sqlite3
# needs: sqlite3
# thousands of rows, indexes, joins, aggregates.
exec sqlite3 db.sqlite <<'SQL'
PRAGMA journal_mode=OFF;
CREATE TABLE person(id INTEGER PRIMARY KEY, name TEXT, city INTEGER, born INTEGER);
CREATE TABLE city(id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE purchase(id INTEGER PRIMARY KEY, person INTEGER, amount INTEGER, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
  INSERT INTO city SELECT i, 'city-' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
  INSERT INTO person SELECT i, 'person-' || (i * 7919 % 5000), i % 50 + 1, 1940 + i % 60 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
  INSERT INTO purchase SELECT i, i * 31 % 5000 + 1, i * 17 % 1000, printf('note %08d %s', i, hex(i * 7)) FROM n;
CREATE INDEX person_city ON person(city);
CREATE INDEX purchase_person ON purchase(person, amount);
SELECT c.name, count(DISTINCT p.id), sum(u.amount), max(u.note)
  FROM city c JOIN person p ON p.city = c.id JOIN purchase u ON u.person = p.id
  GROUP BY c.id ORDER BY sum(u.amount) DESC LIMIT 10;
SELECT p.born / 10 * 10 AS decade, count(*), avg(u.amount)
  FROM person p LEFT JOIN purchase u ON u.person = p.id GROUP BY decade ORDER BY decade;
UPDATE purchase SET note = upper(note) WHERE amount % 3 = 0;
DELETE FROM purchase WHERE amount > 900;
SELECT count(*), sum(length(note)), group_concat(DISTINCT substr(note, 1, 6)) FROM purchase;
SELECT name FROM person WHERE id IN (SELECT person FROM purchase GROUP BY person HAVING count(*) > 5) ORDER BY name LIMIT 5;
SQL
