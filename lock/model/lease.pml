/*
 * lease.pml -- the tguard lease protocol (lock/*.go, docs/PROTOCOL.md) in
 * Promela, for spin.  See README.md in this folder for what is modelled,
 * what is abstracted away, the bounds and the results.
 *
 * Properties (assertions):
 *   ME   at most one process holds a valid lease at any moment.  A process
 *        holds from the grant (its mkdir of <G> and the check after it) until
 *        its deadline passes on its own clock, its renewal proves the lease
 *        lost, or its release mkdir.  Validity is checked at every moment a
 *        process gains it (grant; renewal that moves the deadline): it is the
 *        only way the number of valid holders can grow.
 *   TOK  every grant's token is strictly greater than every earlier grant's
 *        (hence no token is granted twice).
 *
 * Switches (spin -DNAME ...):
 *   protocol variants
 *     FIX_KEEP         never rmdir a name this process just made by mkdir
 *                      (grant: give it back as a released generation;
 *                      end: leave the slot).  The fix proposed in README.md.
 *     FIX_NO_REVIVE    a renewal that returns after the deadline has passed
 *                      ends the lease instead of moving the deadline.
 *   fault classes (all on by default)
 *     NO_LIST_ERRORS   the listing after a mkdir never fails
 *     NO_IO_ERRORS     renewal/release mkdirs never fail with an I/O error
 *     IO_ALL           grant/end mkdirs may fail with an I/O error too
 *                      (landed or not); off by default (state space)
 *     FRESH_READS      a waiter always reads the current state
 *     MAXCRASH=n       at most n crashes (default 1)
 *   controls: each must make spin find a violation
 *     BUG_NO_VERIFY    drop the listing after the grant/end mkdir
 *     BUG_NO_WAIT      a waiter ends a generation without waiting
 *     BUG_EXCL_CREATE  the grant primitive is not exclusive (O_EXCL on the
 *                      share): a grant "wins" although the name exists
 *     BUG_STAMP_AFTER  the holder stamps its clock after its mkdir returns
 *   bounds
 *     NPROC (2|3), NG (generations, <= 5), NS (slots per generation, <= 5),
 *     LEASE, MARGIN (ticks)
 */

#ifndef NPROC
#define NPROC 3
#endif
#ifndef NG
#define NG 3
#endif
#ifndef NS
#define NS 3
#endif
#ifndef LEASE
#define LEASE 4
#endif
#ifndef MARGIN
#define MARGIN 1
#endif
#ifndef MAXCRASH
#define MAXCRASH 1
#endif

#define HOLDFOR (LEASE - MARGIN)   /* holder: deadline = stamp + lease - margin */
#define WAITFOR (LEASE + MARGIN)   /* waiter: may end after lease + margin unchanged */

/* processes 0 and 1 share a host; process 2 is on another host */
#define HOST(p) ((p) == 2 -> 1 : 0)

/* ------------------------------------------------------------------ */
/* The share: one bit per name.  gens bit g: folder .tguard-lease/<g>;  */
/* slots[g] bit k: <g>/<k>; marks[g] bit k: a marker file in <g>/<k>;  */
/* rec[g]: owner.json of <g> (0 none, else owner pid + 1).             */
/* The *Ever copies record every name that ever existed: a stale       */
/* reading may show any of them (a subset of history, see READ).       */
/* ------------------------------------------------------------------ */
byte gens, gensEver;
byte slots[NG+1], slotsEver[NG+1];
byte marks[NG+1], marksEver[NG+1];
byte rec[NG+1], recEver[NG+1];

#define BIT(i)     (1 << (i))
#define HAS(m,i)   ((((m) >> (i)) & 1) == 1)
#define MAXBIT(m)  (((m) & 32) -> 5 : (((m) & 16) -> 4 : (((m) & 8) -> 3 : (((m) & 4) -> 2 : (((m) & 2) -> 1 : 0)))))

#define MKGEN(g)      gens = gens | BIT(g); gensEver = gensEver | BIT(g)
#define MKSLOT(g,k)   slots[g] = slots[g] | BIT(k); slotsEver[g] = slotsEver[g] | BIT(k)
#define MARK(g,k)     marks[g] = marks[g] | BIT(k); marksEver[g] = marksEver[g] | BIT(k)
/* mkdir <g>/<k> succeeds iff <g> exists and <k> does not */
#define CANMKSLOT(g,k) (HAS(gens,g) && !HAS(slots[g],k))
/* RemoveAll(<g>) of the grantee's garbage collection, as one step */
#define RMGEN(g)      gens = gens & ~BIT(g); slots[g] = 0; marks[g] = 0; rec[g] = 0

/* ------------------------------------------------------------------ */
/* Process state (global arrays so that the clock can age it).         */
/* ------------------------------------------------------------------ */
#define IDLE     0   /* waiter: stamp, read the folder, decide         */
#define END_MK   1   /* end(): mkdir <tok>/<vK+1>                       */
#define END_LS   2   /* end(): list <tok> after our mkdir (fresh)       */
#define END_RM   3   /* end(): rmdir our slot (code as written)         */
#define END_MARK 4   /* end(): write "expired" in our slot              */
#define GR_MK    5   /* grant(): mkdir <tok>                            */
#define GR_LS    6   /* grant(): list the lease folder (fresh)          */
#define GR_RM    7   /* grant(): rmdir our generation (code as written) */
#define GR_REC   8   /* grant(): fsync + owner.json         -- holds -- */
#define GR_GC    9   /* grant(): RemoveAll generations < tok-1          */
#define HOLD    10   /* holder: renew, release, or deadline             */
#define RN_MK   11   /* Renew: mkdir <tok>/<myslot+1> (stamped)         */
#define RN_GC   12   /* Renew: rmdir slot myslot-2, then extend         */
#define RL_MK   13   /* Release: mkdir <tok>/<myslot+1>  -- holds till */
#define RL_MARK 14   /* Release: write "released"                      */
#define GR_GIVE 15   /* FIX_KEEP: give an unproven grant back: mkdir <tok>/1 */
#define GR_GIVEM 16  /* FIX_KEEP: ... and mark it released              */
#define DEAD    17   /* crashed: stops forever                          */
#define STOP    18   /* a waiter that ran out of the model's bounds     */

byte pc[NPROC];
byte tok[NPROC];     /* generation being ended / granted / held         */
byte vK[NPROC];      /* slot read, for end()                            */
byte myslot[NPROC];  /* holder's newest slot                            */
byte rem[NPROC];     /* holder: ticks left before its deadline          */
byte sage[NPROC];    /* ticks since the stamp of a grant or renewal     */
bit  lost[NPROC];    /* the watchdog ended the lease during a renewal   */
bit  watching[NPROC];/* waiter state kept by fileBackend between tries  */
byte wG[NPROC];
byte wK[NPROC];
byte wage[NPROC];    /* ticks since watchSince (capped at WAITFOR)      */
bit  rmRaced[NPROC]; /* the pending rmdir ends as "raced"               */
bit  crashed[NPROC];
byte ncrash;
byte lastTok;        /* highest token granted so far                    */

/* a stamp is running from the attempt's read until the grant is proven,
 * and from a renewal's stamp until it extends the deadline */
#define STAMPED(p) ((pc[p] >= END_MK && pc[p] <= GR_LS && pc[p] != END_RM) || pc[p] == RN_MK || pc[p] == RN_GC)

#define VALIDP(p)  ((pc[p] >= GR_REC && pc[p] <= RL_MK && !lost[p] && rem[p] > 0) -> 1 : 0)
#if NPROC == 2
#define NVALID (VALIDP(0) + VALIDP(1))
#else
#define NVALID (VALIDP(0) + VALIDP(1) + VALIDP(2))
#endif

#define me _pid

/* back to a waiter's first step; the backend's watch state is kept */
#define TOIDLE   pc[me] = IDLE; tok[me] = 0; vK[me] = 0; myslot[me] = 0; rem[me] = 0; sage[me] = 0; lost[me] = 0
/* errRaced: raced() also forgets what was being watched */
#define RACED    watching[me] = 0; wG[me] = 0; wK[me] = 0; wage[me] = 0; TOIDLE
/* another error: the attempt fails, the watch state stays */
#define ERR      TOIDLE

/* ------------------------------------------------------------------ */
/* Time: one tick ages every clock by one unit (equal rates).          */
/* ------------------------------------------------------------------ */
#define TICK(p) \
	if :: watching[p] && wage[p] < WAITFOR -> wage[p]++ :: else -> skip fi; \
	if :: STAMPED(p) && sage[p] < HOLDFOR -> sage[p]++ :: else -> skip fi; \
	if :: rem[p] > 0 -> rem[p]-- :: else -> skip fi


/* ------------------------------------------------------------------ */
/* A reading of the folder (readView).  Stale: the highest generation,  */
/* its highest slot, the marker and owner.json may each come from any   */
/* earlier moment (each is a separate listing or read in readView), so  */
/* the reader may see any name that ever existed.  Fresh: the present.  */
/* ------------------------------------------------------------------ */
#ifdef FRESH_READS
#define READ \
	rG = MAXBIT(gens); \
	if :: rG > 0 -> rK = MAXBIT(slots[rG]); rR = rec[rG]; \
	      if :: rK > 0 -> rM = HAS(marks[rG], rK) :: else -> skip fi \
	   :: else -> skip fi
#else
#define PICK(var, set, i) :: HAS(set, i) -> var = i
#define READ \
	if \
	:: rG = 0 \
	PICK(rG, gensEver, 1) \
	PICK(rG, gensEver, 2) \
	PICK(rG, gensEver, 3) \
	PICK(rG, gensEver, 4) \
	PICK(rG, gensEver, 5) \
	fi; \
	if \
	:: rG > 0 -> \
		if \
		:: rK = 0 \
		PICK(rK, slotsEver[rG], 1) \
		PICK(rK, slotsEver[rG], 2) \
		PICK(rK, slotsEver[rG], 3) \
		PICK(rK, slotsEver[rG], 4) \
		PICK(rK, slotsEver[rG], 5) \
		fi; \
		if \
		:: rK > 0 && HAS(marksEver[rG], rK) -> rM = 1 \
		:: true -> skip \
		fi; \
		if \
		:: recEver[rG] != 0 -> rR = recEver[rG] \
		:: true -> skip /* missing, torn, not yet written */ \
		fi \
	:: else -> skip \
	fi
#endif

#ifdef BUG_NO_WAIT
#define EXPIRED (1)
#else
#define EXPIRED (wage[me] >= WAITFOR)
#endif

active [NPROC] proctype Proc()
{
	byte rG, rK, rR; bit rM;   /* scratch of one step, always 0 between steps */
end_proc:
	do
	/* a crash at any step: the process stops, its names stay */
	:: pc[me] != DEAD && pc[me] != STOP && ncrash < MAXCRASH ->
		d_step {
			ncrash++; crashed[me] = 1;
			printf("P%d CRASHES\n", me);
			TOIDLE; RACED; pc[me] = DEAD
		}

	/* Locker.attempt + fileBackend.Attempt: stamp, read, decide */
	:: pc[me] == IDLE ->
		atomic {
			sage[me] = 0;   /* stamp := monoNow(), before anything */
			READ;
			if
			:: rG == 0 || rM ->            /* free or ended: grant G+1 */
				printf("P%d reads (%d,%d) marker=%d: free, will grant %d\n", me, rG, rK, rM, rG + 1);
				tok[me] = rG + 1; pc[me] = GR_MK
			:: else ->
				if
				:: rR != 0 && crashed[rR - 1] && HOST(rR - 1) == HOST(me) ->
					/* the holder is provably dead: end without waiting */
					printf("P%d reads (%d,%d) owner P%d crashed: ends it now\n", me, rG, rK, rR - 1);
					tok[me] = rG; vK[me] = rK; pc[me] = END_MK
				:: else ->
					if
					:: !watching[me] || wG[me] != rG || wK[me] != rK ->
						printf("P%d reads (%d,%d) held: starts watching\n", me, rG, rK);
						watching[me] = 1; wG[me] = rG; wK[me] = rK; wage[me] = 0
					:: else -> skip
					fi;
					if
					:: EXPIRED ->
						printf("P%d reads (%d,%d) unchanged for %d: expired, ends it\n", me, rG, rK, wage[me]);
						tok[me] = rG; vK[me] = rK; pc[me] = END_MK
					:: else -> skip   /* held: try again later */
					fi
				fi
			fi;
			rG = 0; rK = 0; rM = 0; rR = 0
		}

	/* end(): mkdir <G>/<k+1> */
	:: pc[me] == END_MK ->
		atomic {
			if
			:: vK[me] + 1 > NS -> TOIDLE; RACED; pc[me] = STOP
			:: else ->
				if
				:: !CANMKSLOT(tok[me], vK[me] + 1) ->   /* exists, or <G> gone */
					printf("P%d end: mkdir %d/%d fails: raced\n", me, tok[me], vK[me] + 1);
					RACED
				:: CANMKSLOT(tok[me], vK[me] + 1) ->
					printf("P%d end: mkdir %d/%d ok\n", me, tok[me], vK[me] + 1);
					MKSLOT(tok[me], vK[me] + 1); pc[me] = END_LS
#ifdef IO_ALL
				:: CANMKSLOT(tok[me], vK[me] + 1) ->
					MKSLOT(tok[me], vK[me] + 1); ERR   /* landed, error */
				:: true -> ERR                          /* did not land */
#endif
				fi
			fi
		}

	/* end(): list <G>; ours must be the newest slot */
	:: pc[me] == END_LS ->
		atomic {
			if
#ifdef BUG_NO_VERIFY
			:: true -> pc[me] = END_MARK
#else
#ifndef NO_LIST_ERRORS
			:: true -> rmRaced[me] = 0; pc[me] = END_RM       /* listing failed */
				printf("P%d end: listing %d fails (I/O error)\n", me, tok[me])
#endif
			:: !HAS(gens, tok[me]) -> rmRaced[me] = 0; pc[me] = END_RM
			:: HAS(gens, tok[me]) && MAXBIT(slots[tok[me]]) != vK[me] + 1 ->
				printf("P%d end: listing %d shows slot %d, not ours\n", me, tok[me], MAXBIT(slots[tok[me]]));
				rmRaced[me] = 1; pc[me] = END_RM
			:: HAS(gens, tok[me]) && MAXBIT(slots[tok[me]]) == vK[me] + 1 ->
				printf("P%d end: listing %d: ours is the newest\n", me, tok[me]);
				pc[me] = END_MARK
#endif
			fi
		}

	/* end(): os.Remove(slot) after a failed or impossible check */
	:: pc[me] == END_RM ->
		atomic {
#ifndef FIX_KEEP
			if
			:: HAS(gens, tok[me]) && HAS(slots[tok[me]], vK[me] + 1) && !HAS(marks[tok[me]], vK[me] + 1) ->
				printf("P%d end: rmdir %d/%d\n", me, tok[me], vK[me] + 1);
				slots[tok[me]] = slots[tok[me]] & ~BIT(vK[me] + 1)
			:: else -> skip
			fi;
#endif
			if
			:: rmRaced[me] -> rmRaced[me] = 0; RACED
			:: else -> ERR
			fi
		}

	/* end(): the marker; a failed write is only logged */
	:: pc[me] == END_MARK ->
		atomic {
			if
			:: HAS(gens, tok[me]) && HAS(slots[tok[me]], vK[me] + 1) -> MARK(tok[me], vK[me] + 1);
				printf("P%d end: writes %d/%d/expired\n", me, tok[me], vK[me] + 1)
			:: true -> printf("P%d end: marker write fails\n", me)
			fi;
			tok[me] = tok[me] + 1; vK[me] = 0; pc[me] = GR_MK
		}

	/* grant(): mkdir <G+1> */
	:: pc[me] == GR_MK ->
		atomic {
			if
			:: tok[me] > NG -> TOIDLE; RACED; pc[me] = STOP
			:: else ->
				if
				:: HAS(gens, tok[me]) ->
					printf("P%d grant: mkdir %d fails: raced\n", me, tok[me]);
					RACED
#ifdef BUG_EXCL_CREATE
				:: HAS(gens, tok[me]) -> pc[me] = GR_LS;   /* "won" though it exists */
					printf("P%d grant: mkdir %d ok although it exists (not exclusive)\n", me, tok[me])
#endif
				:: !HAS(gens, tok[me]) -> MKGEN(tok[me]); pc[me] = GR_LS;
					printf("P%d grant: mkdir %d ok\n", me, tok[me])
#ifdef IO_ALL
				:: !HAS(gens, tok[me]) -> MKGEN(tok[me]); ERR
				:: true -> ERR
#endif
				fi
			fi
		}

	/* grant(): list the lease folder; ours must be the newest generation */
	:: pc[me] == GR_LS ->
		atomic {
			if
#ifndef BUG_NO_VERIFY
#ifndef NO_LIST_ERRORS
			:: true -> rmRaced[me] = 0; pc[me] = GR_RM   /* listing failed */
				printf("P%d grant: listing fails (I/O error)\n", me)
#endif
			:: MAXBIT(gens) != tok[me] -> rmRaced[me] = 1; pc[me] = GR_RM;
				printf("P%d grant: listing shows %d above %d\n", me, MAXBIT(gens), tok[me])
			:: MAXBIT(gens) == tok[me] ->
#else
			:: true ->
#endif
				/* granted: token tok, deadline from the attempt's stamp */
				assert(tok[me] > lastTok);
				lastTok = tok[me];
				myslot[me] = 0; lost[me] = 0;
#ifdef BUG_STAMP_AFTER
				rem[me] = HOLDFOR;
#else
				rem[me] = HOLDFOR - sage[me];
#endif
				sage[me] = 0;
				pc[me] = GR_REC;
				printf("P%d GRANTED token %d, valid for %d\n", me, tok[me], rem[me]);
				assert(NVALID <= 1)
			fi
		}

	/* grant(): os.Remove(genDir) after a failed or impossible check */
	:: pc[me] == GR_RM ->
		atomic {
#ifdef FIX_KEEP
			pc[me] = GR_GIVE
#else
			if
			:: HAS(gens, tok[me]) && slots[tok[me]] == 0 && rec[tok[me]] == 0 ->
				gens = gens & ~BIT(tok[me]);
				printf("P%d grant: rmdir %d\n", me, tok[me])
			:: else -> skip    /* not empty: rmdir fails */
			fi;
			if
			:: rmRaced[me] -> rmRaced[me] = 0; RACED
			:: else -> ERR
			fi
#endif
		}

	/* FIX_KEEP: give the unproven generation back like Release does */
	:: pc[me] == GR_GIVE ->
		atomic {
			if
			:: CANMKSLOT(tok[me], 1) -> MKSLOT(tok[me], 1); pc[me] = GR_GIVEM;
				printf("P%d grant: gives %d back: mkdir %d/1 ok\n", me, tok[me], tok[me])
			:: else ->
				if
				:: rmRaced[me] -> rmRaced[me] = 0; RACED
				:: else -> ERR
				fi
			fi
		}
	:: pc[me] == GR_GIVEM ->
		atomic {
			if
			:: HAS(gens, tok[me]) && HAS(slots[tok[me]], 1) -> MARK(tok[me], 1)
			:: true -> skip
			fi;
			if
			:: rmRaced[me] -> rmRaced[me] = 0; RACED
			:: else -> ERR
			fi
		}

	/* grant(): fsync + owner.json; on failure release at once */
	:: pc[me] == GR_REC ->
		atomic {
			if
			:: HAS(gens, tok[me]) ->
				rec[tok[me]] = me + 1; recEver[tok[me]] = me + 1;
				printf("P%d grant: writes %d/owner.json\n", me, tok[me]);
				watching[me] = 0; wG[me] = 0; wK[me] = 0; wage[me] = 0;
				pc[me] = GR_GC
			:: true -> pc[me] = RL_MK;
				printf("P%d grant: owner.json fails: releases\n", me)
			fi
		}

	/* grant(): remove generations below tok-1; then attempt() checks Valid */
	:: pc[me] == GR_GC ->
		d_step {
			printf("P%d grant: removes generations below %d\n", me, tok[me] - 1);
			if :: 1 + 1 < tok[me] && HAS(gens, 1) -> RMGEN(1) :: else -> skip fi;
			if :: 2 + 1 < tok[me] && HAS(gens, 2) -> RMGEN(2) :: else -> skip fi;
			if :: 3 + 1 < tok[me] && HAS(gens, 3) -> RMGEN(3) :: else -> skip fi;
			if :: rem[me] > 0 -> pc[me] = HOLD :: else -> pc[me] = RL_MK fi
		}

	/* holder: renew (stamp first), release, or see the deadline pass */
	:: pc[me] == HOLD ->
		atomic {
			if
			:: myslot[me] + 1 <= NS -> sage[me] = 0; pc[me] = RN_MK;
				printf("P%d renew: stamp (valid for %d)\n", me, rem[me])
			:: pc[me] = RL_MK
			:: rem[me] == 0 -> TOIDLE;    /* watchdog or Check: lease over */
				printf("P%d: deadline passed, lease over\n", me)
			fi
		}

	/* the watchdog fires while a renewal is in flight */
	:: (pc[me] == RN_MK || pc[me] == RN_GC) && rem[me] == 0 && !lost[me] ->
		lost[me] = 1; printf("P%d: watchdog: deadline passed\n", me)

	/* Renew: mkdir <G>/<myslot+1> */
	:: pc[me] == RN_MK ->
		atomic {
			if
			:: !CANMKSLOT(tok[me], myslot[me] + 1) ->   /* exists or <G> gone: lost */
				printf("P%d renew: mkdir %d/%d fails: LOST\n", me, tok[me], myslot[me] + 1);
				TOIDLE
			:: CANMKSLOT(tok[me], myslot[me] + 1) ->
				printf("P%d renew: mkdir %d/%d ok\n", me, tok[me], myslot[me] + 1);
				MKSLOT(tok[me], myslot[me] + 1); myslot[me]++; pc[me] = RN_GC
#ifndef NO_IO_ERRORS
			:: true ->                                         /* EIO, did not land */
				printf("P%d renew: mkdir fails (I/O error)\n", me);
				sage[me] = 0;
				if :: lost[me] -> TOIDLE :: else -> pc[me] = HOLD fi
			:: CANMKSLOT(tok[me], myslot[me] + 1) ->           /* EIO, but landed */
				MKSLOT(tok[me], myslot[me] + 1); sage[me] = 0;
				printf("P%d renew: mkdir %d/%d lands but reports an I/O error\n", me, tok[me], myslot[me] + 1);
				if :: lost[me] -> TOIDLE :: else -> pc[me] = HOLD fi
#endif
			fi
		}

	/* Renew: remove slot myslot-2; renewLoop: extend the deadline */
	:: pc[me] == RN_GC ->
		atomic {
			if
			:: myslot[me] > 2 && HAS(gens, tok[me]) && !HAS(marks[tok[me]], myslot[me] - 2) ->
				slots[tok[me]] = slots[tok[me]] & ~BIT(myslot[me] - 2);
				printf("P%d renew: rmdir %d/%d\n", me, tok[me], myslot[me] - 2)
			:: else -> skip
			fi;
			if
			:: lost[me] -> TOIDLE
#ifdef FIX_NO_REVIVE
			:: !lost[me] && rem[me] == 0 -> TOIDLE   /* deadline passed: over */
#endif
			:: else ->
#ifdef BUG_STAMP_AFTER
				rem[me] = HOLDFOR;
#else
				if :: HOLDFOR - sage[me] > rem[me] -> rem[me] = HOLDFOR - sage[me] :: else -> skip fi;
#endif
				sage[me] = 0; pc[me] = HOLD;
				printf("P%d renew: valid for %d\n", me, rem[me]);
				assert(NVALID <= 1)
			fi
		}

	/* Release: mkdir <G>/<myslot+1>; the lease ends here */
	:: pc[me] == RL_MK && myslot[me] + 1 <= NS ->
		atomic {
			if
			:: !CANMKSLOT(tok[me], myslot[me] + 1) -> TOIDLE   /* lost before */
			:: CANMKSLOT(tok[me], myslot[me] + 1) ->
				printf("P%d release: mkdir %d/%d ok\n", me, tok[me], myslot[me] + 1);
				MKSLOT(tok[me], myslot[me] + 1); myslot[me]++; pc[me] = RL_MARK
#ifndef NO_IO_ERRORS
			:: true -> TOIDLE
			:: CANMKSLOT(tok[me], myslot[me] + 1) -> MKSLOT(tok[me], myslot[me] + 1); TOIDLE
#endif
			fi
		}
	:: pc[me] == RL_MARK ->
		atomic {
			if
			:: HAS(gens, tok[me]) && HAS(slots[tok[me]], myslot[me]) -> MARK(tok[me], myslot[me])
			:: true -> skip
			fi;
			TOIDLE
		}
	od
}

/* declared after Proc so that the processes get pids 0..NPROC-1 */
active proctype Clock()
{
end_clock:
	do
#if NPROC == 2
	:: d_step { TICK(0); TICK(1); printf("tick\n") }
#else
	:: d_step { TICK(0); TICK(1); TICK(2); printf("tick\n") }
#endif
	od
}
