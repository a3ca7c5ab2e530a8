# Planted hazard-ratio recovery on a simulated cohort with R's survival::coxph, with the [[survival]] rules of
# configs/study_cox.toml (3-year exclusion, death as competing end, censor 2022-11-30).
# The reference for pwas' Cox step on the same data (configs/study_cox.toml, `pwas summary --truth`).
# Usage: Rscript cox_recovery.R EXPORT.csv TRUTH.tsv NULLS.txt OUT.tsv   (EXPORT/NULLS from cox_recovery_export.py)
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], check.names = FALSE, stringsAsFactors = FALSE)
truth <- read.delim(args[2], stringsAsFactors = FALSE)
nulls <- readLines(args[3])
censor <- as.numeric(as.Date("2022-11-30"))
covs <- c("age", "sex", "centre", "olink_batch", "time_gap_days", paste0("pc", 1:20), "ethnicity", "education",
          "income", "smoking", "alcohol", "bmi")
d$centre <- factor(d$centre); d$olink_batch <- factor(d$olink_batch)
for (v in c("ethnicity", "education", "income")) d[[v]] <- factor(d[[v]])
cc <- complete.cases(d[, covs])
rin <- function(x) { ok <- !is.na(x); r <- rep(NA, length(x)); r[ok] <- qnorm((rank(x[ok]) - 3/8) / (sum(ok) + 1/4)); r }
bonf <- 0.05 / (sum(truth$qc_drop == 0) * 6)   # the study: every protein x 6 outcomes
out <- list()
for (o in c("cvd", "t2d", "stroke", "dementia", "depression", "death")) {
  base <- d$date_baseline; ev <- d[[paste0("date_", o)]]; death <- if (o == "death") NA * base else d$date_death
  elig <- !is.na(base) & base < censor & !(!is.na(ev) & ev <= base) & !(!is.na(death) & death <= base) &
          !(!is.na(ev) & ev - base <= 3 * 365.25)
  stop <- pmin(ifelse(is.na(death), censor, death), censor)
  event <- !is.na(ev) & ev <= stop
  years <- (ifelse(event, ev, stop) - base) / 365.25
  keep <- cc & elig
  planted <- truth$symbol[truth[[paste0("planted_", o)]] == 1]
  for (p in c(planted, nulls)) {
    x <- d[[p]]; rows <- keep & !is.na(x)
    dd <- d[rows, covs]; dd$prot <- rin(x[rows]); dd$years <- years[rows]; dd$event <- event[rows]
    f <- coxph(as.formula(paste("Surv(years, event) ~ prot +", paste(covs, collapse = " + "))), data = dd, ties = "efron")
    s <- summary(f)$coefficients["prot", ]
    out[[length(out) + 1]] <- data.frame(outcome = o, protein = p, planted = p %in% planted,
      hr_planted = truth[[paste0("hr_", o, "_per_sd")]][truth$symbol == p], hr = unname(s["exp(coef)"]),
      p = unname(s["Pr(>|z|)"]), n = sum(rows), events = sum(dd$event))
  }
}
r <- do.call(rbind, out)
write.table(r, args[4], sep = "\t", quote = FALSE, row.names = FALSE)
for (o in unique(r$outcome)) {
  x <- r[r$outcome == o, ]; pl <- x[x$planted, ]; nl <- x[!x$planted, ]
  cat(sprintf("%-10s n=%d events=%d  planted found at Bonferroni %d of %d; null hits %d of %d; median HR est/planted %.3f\n",
              o, max(x$n), max(x$events), sum(pl$p < bonf), nrow(pl), sum(nl$p < bonf), nrow(nl),
              exp(median(log(pl$hr) - log(pl$hr_planted)))))
}
