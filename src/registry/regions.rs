//! Alibaba Cloud region ids: the table known at this release and the shape rule for the rest.

/// Alibaba Cloud region ids known at this release (public cloud, finance and government
/// clouds, retired ones whose hosts may still be configured).
pub(super) const REGIONS: &[&str] = &[
    "cn-hangzhou",
    "cn-shanghai",
    "cn-qingdao",
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-wulanchabu",
    "cn-shenzhen",
    "cn-heyuan",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-nanjing",
    "cn-fuzhou",
    "cn-wuhan-lr",
    "cn-zhongwei",
    "cn-hongkong",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-southeast-8",
    "ap-south-1",
    "us-east-1",
    "us-west-1",
    "us-southeast-1",
    "eu-central-1",
    "eu-west-1",
    "me-east-1",
    "me-central-1",
    "na-south-1",
    "cn-hangzhou-finance",
    "cn-shanghai-finance-1",
    "cn-shenzhen-finance-1",
    "cn-beijing-finance-1",
    "cn-north-2-gov-1",
];

/// The areas region ids begin with (`cn-hangzhou`, `ap-southeast-1`, `us-east-1`, `eu-west-1`,
/// `me-east-1`, `na-south-1`, and `sa-` kept for South America).
pub(super) const REGION_AREAS: &[&str] = &["cn", "ap", "us", "eu", "me", "na", "sa"];

/// True when `s` may be the region of a standard ACR host: one of [`REGIONS`], or an area of
/// [`REGION_AREAS`], a word of letters and more parts (`ap-southeast-9`, `cn-foo`). Rejects
/// `oss-cn-hangzhou` (an OSS endpoint: its buckets are anyone's to name) and `foo-bar`.
pub(crate) fn is_registry_region(s: &str) -> bool {
    if REGIONS.contains(&s) {
        return true;
    }
    let mut parts = s.split('-');
    let (Some(area), Some(word)) = (parts.next(), parts.next()) else {
        return false;
    };
    REGION_AREAS.contains(&area)
        && word.len() >= 2
        && word.bytes().all(|b| b.is_ascii_lowercase())
        && is_region_id(s)
}

/// True when `s` looks like an Alibaba Cloud region id (`cn-hangzhou`, `ap-southeast-1`): the
/// check for configured regions, which may name a region this release does not know.
pub(crate) fn is_region_id(s: &str) -> bool {
    let mut parts = 0;
    for part in s.split('-') {
        if part.is_empty()
            || !part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return false;
        }
        parts += 1;
    }
    parts >= 2 && s.as_bytes()[0].is_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{Overrides, parse_host};

    #[test]
    fn region_ids() {
        for ok in [
            "cn-hangzhou",
            "ap-southeast-1",
            "cn-hangzhou-finance",
            "us-east-1",
        ] {
            assert!(is_region_id(ok), "{ok}");
        }
        for bad in [
            "hangzhou", "cn-", "-cn", "cn--x", "CN-HZ", "cn_hz", "1-cn", "",
        ] {
            assert!(!is_region_id(bad), "{bad}");
        }
    }

    #[test]
    fn every_known_region_and_documented_area_parses() {
        let none = Overrides::default();
        for region in REGIONS {
            assert!(is_registry_region(region), "{region}");
            for host in [
                format!("registry.{region}.aliyuncs.com"),
                format!("registry-intl-vpc.distributed.{region}.aliyuncs.com"),
                format!("my-inst-registry-vpc.distributed.{region}.cr.aliyuncs.com"),
            ] {
                let r = parse_host(&host, &none).unwrap_or_else(|| panic!("{host}"));
                assert_eq!(r.region, *region);
            }
        }
        // A region this release does not list yet, in a documented area.
        for region in ["ap-southeast-9", "cn-foo", "us-north-2", "sa-east-1"] {
            assert!(is_registry_region(region), "{region}");
            assert!(parse_host(&format!("registry.{region}.aliyuncs.com"), &none).is_some());
        }
        for bad in [
            "oss-cn-hangzhou",
            "foo-bar",
            "cn",
            "cn-",
            "cn-1",
            "cn-h",
            "cn--hangzhou",
            "xx-east-1",
            "CN-HANGZHOU",
            "oss-accelerate",
        ] {
            assert!(!is_registry_region(bad), "{bad}");
        }
    }
}
