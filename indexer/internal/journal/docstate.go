package journal

import (
	"database/sql"
	"errors"

	"github.com/tguard/tguard/indexer/internal/payload"
)

// DocState is what the journal knows of one document id.
type DocState struct {
	Seq uint64 // the last entry of the id
	// Committed: a commit of this journal recorded the entry, under Token;
	// otherwise the entry is pending.
	Committed bool
	Token     uint64
}

// ErrNotJournaled: the journal holds no entry of the id (never accepted
// here, or committed and since confirmed and dropped).
var ErrNotJournaled = errors.New("not in the journal")

// DocState reports the journal's last entry of id.
func (j *Journal) DocState(id string) (DocState, error) {
	var st DocState
	err := j.db.QueryRow("SELECT max(seq) FROM entries WHERE doc_id = ? HAVING count(*) > 0", id).Scan(&st.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return st, ErrNotJournaled
	}
	if err != nil {
		return st, err
	}
	mark, err := j.CommitMark()
	if err != nil {
		return st, err
	}
	// Entries up to the mark are those of this journal's last commit:
	// earlier ones were confirmed and dropped when that commit's grant
	// read the index.
	if st.Seq <= mark.Seq {
		st.Committed, st.Token = true, mark.Token
	}
	return st, nil
}

// CommittedIDs returns the ids of the entries this journal's last commit
// recorded (at most limit), and that commit's mark. The next grant drops
// them from the journal once it confirms them in the index; a service that
// answers "which commit has this document" reads them first.
func (j *Journal) CommittedIDs(limit int) ([]string, payload.Mark, error) {
	mark, err := j.CommitMark()
	if err != nil || mark.Seq == 0 {
		return nil, mark, err
	}
	rows, err := j.db.Query("SELECT doc_id FROM entries WHERE seq <= ? ORDER BY seq LIMIT ?", mark.Seq, limit)
	if err != nil {
		return nil, mark, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mark, err
		}
		ids = append(ids, id)
	}
	return ids, mark, rows.Err()
}
