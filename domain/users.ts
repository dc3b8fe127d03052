/** User ids appear in account ids, workflow ids and URLs, so they are kept to a safe alphabet. */
export const user_id_pattern = /^[A-Za-z0-9_-]{1,64}$/;
