# PERM (percent excess risk mediated) of a pwas Cox run against R: for each protein, survival::coxph of the derived
# outcome on the exposure + covariates without and with the RIN protein, both on the protein's complete cases, and
# (HR_without - HR_with) / (HR_without - 1) x 100. Prints the largest relative differences of HR_EXPOSURE,
# HR_EXPOSURE_ADJ and PERM. The outcome rules are the [[survival]] table's: 3-year exclusion, death a competing end,
# censored 2022-11-30.
# Usage: Rscript cox_perm_vs_r.R SIM_DIR RESULTS.tsv OUTCOME EXPOSURE COVARIATE,COVARIATE,...
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
sim <- args[1]; res <- read.delim(args[2], stringsAsFactors = FALSE, na.strings = "NA")
o <- args[3]; exposure <- args[4]; covs <- strsplit(args[5], ",")[[1]]
d <- merge(read.csv(file.path(sim, "participants.csv"), stringsAsFactors = FALSE, na.strings = c("", "NA")),
           read.csv(file.path(sim, "olink_instance_0.csv")), by = "eid")
day <- function(x) as.numeric(as.Date(x))
censor <- as.numeric(as.Date("2022-11-30"))
base <- day(d$date_baseline); ev <- day(d[[paste0("date_", o)]]); death <- if (o == "death") NA * base else day(d$date_death)
elig <- !is.na(base) & base < censor & !(!is.na(ev) & ev <= base) & !(!is.na(death) & death <= base) &
        !(!is.na(ev) & ev - base <= 3 * 365.25)
stop <- pmin(ifelse(is.na(death), censor, death), censor)
event <- !is.na(ev) & ev <= stop
years <- (ifelse(event, ev, stop) - base) / 365.25
keep <- complete.cases(d[, covs]) & elig
rin <- function(x) qnorm((rank(x) - 3/8) / (length(x) + 1/4))
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)
worst <- c(HR_EXPOSURE = 0, HR_EXPOSURE_ADJ = 0, PERM = 0)
for (p in res$PROTEIN[res$ERRCODE == "OK"]) {
  x <- d[[tolower(p)]]; rows <- keep & !is.na(x)
  dd <- d[rows, covs]; dd$prot <- rin(x[rows]); dd$years <- years[rows]; dd$event <- event[rows]
  rhs <- paste(covs, collapse = " + ")
  without <- exp(coef(coxph(as.formula(paste("Surv(years, event) ~", rhs)), data = dd, control = ctl))[[exposure]])
  with <- exp(coef(coxph(as.formula(paste("Surv(years, event) ~", rhs, "+ prot")), data = dd, control = ctl))[[exposure]])
  want <- c(HR_EXPOSURE = without, HR_EXPOSURE_ADJ = with, PERM = (without - with) / (without - 1) * 100)
  got <- res[res$PROTEIN == p, names(want)]
  rel <- abs(unlist(got) - want) / abs(want)
  worst <- pmax(worst, rel)
  cat(sprintf("%-10s PERM pwas %.6f R %.6f\n", p, got$PERM, want[["PERM"]]))
}
cat(sprintf("max rel diff:%s\n", paste(sprintf(" %s %.1e", names(worst), worst), collapse = "")))
