# pwas' Cox step end to end against R: refits proteins of a `pwas run` of configs/study_cox.toml (Efron, RIN protein,
# full covariates, the [[survival]] rules: 3-year exclusion, death a competing end, censored 2022-11-30) with
# survival::coxph and cox.zph from the delivery files of `pwas simulate`, and prints the largest relative
# differences of HR, P (Wald), P_SCORE, P_LRT, P_PH and P_PH_GLOBAL.
# Usage: Rscript cox_e2e_vs_r.R SIM_DIR RESULTS.tsv OUTCOMES(comma-separated) N_PROTEINS
# Also times, per protein, what a user's R loop would run: coxph with R's default control and cox.zph on it, and
# prints the mean seconds per fit (the comparisons themselves use a tight convergence, timed apart).
# cox.zph is compared only where no covariate level lacks events (R keeps such a level's column at a coefficient
# near -infinity; pwas leaves the level's samples and column out, the limit R approaches).
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
sim <- args[1]; res <- read.delim(args[2], stringsAsFactors = FALSE, na.strings = "NA")
outcomes <- strsplit(args[3], ",")[[1]]; n_prot <- as.integer(args[4])
d <- read.csv(file.path(sim, "participants.csv"), stringsAsFactors = FALSE, na.strings = c("", "NA"))
olink <- read.csv(file.path(sim, "olink_instance_0.csv"))
d <- merge(d, olink, by = "eid")
day <- function(x) as.numeric(as.Date(x))
censor <- as.numeric(as.Date("2022-11-30"))
covs <- c("age", "sex", "centre", "olink_batch", "time_gap_days", paste0("pc", 1:20), "ethnicity", "education",
          "income", "smoking", "alcohol", "bmi")
for (v in c("centre", "olink_batch", "ethnicity", "education", "income")) d[[v]] <- factor(d[[v]])
cc <- complete.cases(d[, covs])
rin <- function(x) { ok <- !is.na(x); r <- rep(NA, length(x)); r[ok] <- qnorm((rank(x[ok]) - 3/8) / (sum(ok) + 1/4)); r }
rel <- function(a, b) abs(a - b) / abs(b)
worst <- list()
timing <- NULL
for (o in outcomes) {
  base <- day(d$date_baseline); ev <- day(d[[paste0("date_", o)]]); death <- if (o == "death") NA * base else day(d$date_death)
  elig <- !is.na(base) & base < censor & !(!is.na(ev) & ev <= base) & !(!is.na(death) & death <= base) &
          !(!is.na(ev) & ev - base <= 3 * 365.25)
  stop <- pmin(ifelse(is.na(death), censor, death), censor)
  event <- !is.na(ev) & ev <= stop
  years <- (ifelse(event, ev, stop) - base) / 365.25
  keep <- cc & elig
  r_o <- res[res$OUTCOME == o & res$ERRCODE == "OK", ]
  by_outcome <- list()
  for (p in head(r_o$PROTEIN, n_prot)) {
    x <- d[[tolower(p)]]; rows <- keep & !is.na(x)
    dd <- d[rows, covs]; dd$prot <- rin(x[rows]); dd$years <- years[rows]; dd$event <- event[rows]
    rhs <- paste(covs, collapse = " + ")
    ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)
    f0 <- suppressWarnings(coxph(as.formula(paste("Surv(years, event) ~", rhs)), data = dd, control = ctl))
    f <- suppressWarnings(coxph(as.formula(paste("Surv(years, event) ~", rhs, "+ prot")), data = dd, control = ctl))
    fs <- suppressWarnings(coxph(as.formula(paste("Surv(years, event) ~", rhs, "+ prot")), data = dd, control = ctl,
                                 init = c(coef(f0), 0)))
    t0 <- proc.time()[["elapsed"]]
    fd <- suppressWarnings(coxph(as.formula(paste("Surv(years, event) ~", rhs, "+ prot")), data = dd))
    t1 <- proc.time()[["elapsed"]]
    zd <- tryCatch(cox.zph(fd), error = function(e) NULL)
    t2 <- proc.time()[["elapsed"]]
    timing <- rbind(timing, c(coxph = t1 - t0, zph = t2 - t1))
    # R's cox.zph fails (singular) when a level without events keeps its near-infinite column.
    z <- tryCatch(cox.zph(f)$table, error = function(e) NULL)
    k <- length(coef(f))
    no_empty_level <- all(abs(coef(f)) < 10, na.rm = TRUE)
    got <- r_o[r_o$PROTEIN == p, ]
    want <- c(HR = unname(exp(coef(f)[k])), P = unname(summary(f)$coefficients[k, 5]),
              P_SCORE = pchisq(fs$score, 1, lower.tail = FALSE),
              P_LRT = pchisq(2 * (f$loglik[2] - f0$loglik[2]), 1, lower.tail = FALSE),
              P_PH = if (is.null(z) || !no_empty_level) NA else z["prot", "p"],
              P_PH_GLOBAL = if (is.null(z) || !no_empty_level) NA else z["GLOBAL", "p"])
    for (col in names(want)) if (!is.na(want[[col]])) {
      worst[[col]] <- max(c(worst[[col]], rel(got[[col]], want[[col]])))
      by_outcome[[col]] <- max(c(by_outcome[[col]], rel(got[[col]], want[[col]])))
    }
  }
  cat(sprintf("%-10s %d proteins compared; max rel diff:%s\n", o, min(n_prot, nrow(r_o)),
              paste(sprintf(" %s %.1e", names(by_outcome), unlist(by_outcome)), collapse = "")))
}
for (col in names(worst)) cat(sprintf("max rel diff %-12s %.2e\n", col, worst[[col]]))
cat(sprintf("R per fit (default control, %d fits): coxph %.1f ms, cox.zph %.1f ms\n", nrow(timing),
            1000 * mean(timing[, "coxph"]), 1000 * mean(timing[, "zph"])))
