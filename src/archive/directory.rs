//! Directory format (`pg_dump -Fd`): not written yet.
